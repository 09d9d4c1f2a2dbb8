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
    void requiresTheInitialCheckpointAndValidValues() {
        assertThatThrownBy(() -> new LearnerConfig(Map.of())).isInstanceOf(ConfigException.class)
                .hasMessageContaining("learner.init.checkpoint");
        assertThatThrownBy(() -> new LearnerConfig(Map.of("learner.init.checkpoint", "/sft",
                "learner.publish.every.updates", "0"))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("learner.publish.every.updates");
    }
}
