package io.streamrlhf.producer.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class WorkerConfigTest {

    @Test
    void defaultsAndDerivedNames() {
        WorkerConfig c = new WorkerConfig(Map.of(WorkerConfig.POLICY_NAME, "chat", WorkerConfig.WORKER_ID, "w1"));
        assertThat(c.batchMaxSize()).isEqualTo(32);
        assertThat(c.batchMaxWaitMs()).isEqualTo(50);
        assertThat(c.groupId()).isEqualTo("rlhf-workers-chat");
        assertThat(c.transactionalId()).isEqualTo("rlhf-worker-chat-w1");
        assertThat(c.temperature()).isEqualTo(1.0);
        assertThat(new WorkerConfig(Map.of()).workerId()).contains("-");
    }

    @Test
    void valuesFromStringsAndAnExplicitGroup() {
        WorkerConfig c = new WorkerConfig(Map.of(WorkerConfig.BATCH_MAX_SIZE, "8", WorkerConfig.GROUP_ID, "g",
                WorkerConfig.TEMPERATURE, "0.7", "bootstrap.servers", "ignored:9092"));
        assertThat(c.batchMaxSize()).isEqualTo(8);
        assertThat(c.groupId()).isEqualTo("g");
        assertThat(c.temperature()).isEqualTo(0.7);
    }

    @Test
    void theWorkerIdIsTheStaticGroupInstanceIdUnlessStaticMembershipIsOff() {
        assertThat(new WorkerConfig(Map.of(WorkerConfig.WORKER_ID, "stack-worker-0")).groupInstanceId())
                .contains("stack-worker-0");
        assertThat(new WorkerConfig(Map.of()).groupInstanceId()).as("the stable default id")
                .contains(new WorkerConfig(Map.of()).workerId());
        assertThat(new WorkerConfig(Map.of(WorkerConfig.WORKER_ID, "w", WorkerConfig.STATIC_MEMBERSHIP, "false"))
                .groupInstanceId()).isEmpty();
        assertThatThrownBy(() -> new WorkerConfig(Map.of(WorkerConfig.WORKER_ID, "my worker")).groupInstanceId())
                .isInstanceOf(ConfigException.class).hasMessageContaining(WorkerConfig.WORKER_ID)
                .hasMessageContaining("my worker").hasMessageContaining(WorkerConfig.STATIC_MEMBERSHIP);
        assertThatThrownBy(() -> new WorkerConfig(Map.of(WorkerConfig.WORKER_ID, "w".repeat(250))).groupInstanceId())
                .isInstanceOf(ConfigException.class).hasMessageContaining("249");
        assertThat(new WorkerConfig(Map.of(WorkerConfig.WORKER_ID, "my worker", WorkerConfig.STATIC_MEMBERSHIP,
                false)).groupInstanceId()).as("any id will do for a dynamic member").isEmpty();
    }

    @Test
    void theConsumerJoinsAsItsOwnStaticMemberWithAShorterSessionTimeoutThatTheSettingsMayOverride() {
        Map<String, Object> shared = new HashMap<>(Map.of("bootstrap.servers", "b:9092",
                ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "shared-by-every-worker", WorkerConfig.WORKER_ID, "w-1"));
        WorkerConfig config = new WorkerConfig(shared);
        Map<String, Object> props = PolicyWorker.consumerProperties(config, shared);
        assertThat(props).containsEntry(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "w-1")
                .containsEntry(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, PolicyWorker.DEFAULT_SESSION_TIMEOUT_MS)
                .containsEntry(ConsumerConfig.GROUP_ID_CONFIG, "rlhf-workers-policy")
                .containsEntry(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")
                .doesNotContainKey(WorkerConfig.WORKER_ID);

        shared.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "30000");
        shared.put(WorkerConfig.STATIC_MEMBERSHIP, "false");
        props = PolicyWorker.consumerProperties(new WorkerConfig(shared), shared);
        assertThat(props).containsEntry(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "30000")
                .doesNotContainKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
    }

    @Test
    void refusesInvalidValuesNamingTheKey() {
        assertThatThrownBy(() -> new WorkerConfig(Map.of(WorkerConfig.BATCH_MAX_SIZE, 0)))
                .isInstanceOf(ConfigException.class).hasMessageContaining(WorkerConfig.BATCH_MAX_SIZE);
        assertThatThrownBy(() -> new WorkerConfig(Map.of(WorkerConfig.TOP_P, 1.5)))
                .isInstanceOf(ConfigException.class).hasMessageContaining(WorkerConfig.TOP_P);
        assertThatThrownBy(() -> new WorkerConfig(Map.of(WorkerConfig.POLICY_NAME, "")))
                .isInstanceOf(ConfigException.class).hasMessageContaining(WorkerConfig.POLICY_NAME);
    }
}
