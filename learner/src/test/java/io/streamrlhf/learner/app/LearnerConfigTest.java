package io.streamrlhf.learner.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.learner.ppo.PpoConfig;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class LearnerConfigTest {

    @Test
    void readsLearnerAndPpoKeysFromOneMap() {
        LearnerConfig c = new LearnerConfig(Map.of("learner.init.checkpoint", "/sft", "learner.batch.sequences", "32",
                "ppo.advantage.estimator", "grpo", "bootstrap.servers", "ignored:9092"));
        assertThat(c.initCheckpoint()).isEqualTo(Path.of("/sft"));
        assertThat(c.batchSequences()).isEqualTo(32);
        assertThat(c.publishEvery()).isEqualTo(1);
        assertThat(c.ppo().estimator()).isEqualTo(PpoConfig.Estimator.GRPO);
        LearnerConfig.DEFINITION.configKeys().values().forEach(k -> assertThat(k.documentation).as(k.name).isNotBlank());
    }

    @Test
    void leaseAndTransactionalIdDefaultToTheGroupAndPolicy() {
        LearnerConfig c = new LearnerConfig(Map.of("learner.init.checkpoint", "/sft", "learner.group.id", "g",
                "learner.policy.name", "p"));
        assertThat(c.leaseGroupId()).isEqualTo("g-lease");
        assertThat(c.transactionalId("rlhf.")).isEqualTo("rlhf.g-p");
        assertThat(c.leaseSessionTimeoutMs()).isEqualTo(10_000);
        LearnerConfig set = new LearnerConfig(Map.of("learner.init.checkpoint", "/sft", "learner.lease.group.id", "l",
                "learner.transactional.id", "t", "learner.lease.session.timeout.ms", "6000"));
        assertThat(set.leaseGroupId()).isEqualTo("l");
        assertThat(set.transactionalId("rlhf.")).isEqualTo("t");
        assertThat(set.leaseSessionTimeoutMs()).isEqualTo(6000);
        assertThatThrownBy(() -> new LearnerConfig(Map.of("learner.init.checkpoint", "/sft",
                "learner.lease.session.timeout.ms", "500"))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("learner.lease.session.timeout.ms");
    }

    @Test
    void theStateTopicIsOffByDefaultAndABooleanWhenSet() {
        assertThat(new LearnerConfig(Map.of("learner.init.checkpoint", "/sft")).stateTopic()).isFalse();
        assertThat(new LearnerConfig(Map.of("learner.init.checkpoint", "/sft", "learner.state.topic.enabled", "true"))
                .stateTopic()).isTrue();
        assertThatThrownBy(() -> new LearnerConfig(Map.of("learner.init.checkpoint", "/sft",
                "learner.state.topic.enabled", "sometimes"))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("learner.state.topic.enabled");
    }

    @Test
    void requiresTheInitialCheckpointAndValidValues() {
        assertThatThrownBy(() -> new LearnerConfig(Map.of())).isInstanceOf(ConfigException.class)
                .hasMessageContaining("learner.init.checkpoint");
        assertThatThrownBy(() -> new LearnerConfig(Map.of("learner.init.checkpoint", "/sft",
                "learner.publish.every.updates", "0"))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("learner.publish.every.updates");
    }

    @Test
    void ptxDataIsOptionalAndRefusedWhenPtxIsOff() {
        assertThat(new LearnerConfig(Map.of("learner.init.checkpoint", "/sft")).ptxData()).isEmpty();
        assertThat(new LearnerConfig(Map.of("learner.init.checkpoint", "/sft", "learner.ptx.data", "/data/ptx.jsonl",
                "ppo.ptx.coef", "0.5")).ptxData()).contains(Path.of("/data/ptx.jsonl"));
        assertThatThrownBy(() -> new LearnerConfig(Map.of("learner.init.checkpoint", "/sft", "learner.ptx.data",
                "/data/ptx.jsonl"))).isInstanceOf(ConfigException.class)
                .hasMessage("learner.ptx.data is /data/ptx.jsonl but ppo.ptx.coef is 0, so the corpus would not be "
                        + "used; set ppo.ptx.coef > 0 or leave learner.ptx.data empty");
    }

    @Test
    void theScoredConsumerReadsCommittedAndKeepsItsConnectionLongerThanAnUpdateMayTake() {
        Map<String, Object> props = LearnerService.consumerProperties(Map.of("bootstrap.servers", "b:9092",
                "learner.init.checkpoint", "/sft"), "g");
        assertThat(props).containsEntry("group.id", "g").containsEntry("isolation.level", "read_committed")
                .containsEntry("enable.auto.commit", false).containsEntry("bootstrap.servers", "b:9092")
                .doesNotContainKey("learner.init.checkpoint");
        assertThat(((Number) props.get("connections.max.idle.ms")).longValue())
                .isGreaterThan(((Number) props.get("max.poll.interval.ms")).longValue());
        Map<String, Object> own = LearnerService.consumerProperties(Map.of("max.poll.interval.ms", "60000",
                "connections.max.idle.ms", "100000"), "g");
        assertThat(own).as("the user's settings stay").containsEntry("max.poll.interval.ms", "60000")
                .containsEntry("connections.max.idle.ms", "100000");
        assertThat(LearnerService.consumerProperties(Map.of("max.poll.interval.ms", "60000"), "g"))
                .containsEntry("connections.max.idle.ms", 540_000L);
        assertThatThrownBy(() -> LearnerService.consumerProperties(Map.of("max.poll.interval.ms", "soon"), "g"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("max.poll.interval.ms")
                .hasMessageContaining("soon");
    }
}
