package io.streamrlhf.producer.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
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
    void refusesInvalidValuesNamingTheKey() {
        assertThatThrownBy(() -> new WorkerConfig(Map.of(WorkerConfig.BATCH_MAX_SIZE, 0)))
                .isInstanceOf(ConfigException.class).hasMessageContaining(WorkerConfig.BATCH_MAX_SIZE);
        assertThatThrownBy(() -> new WorkerConfig(Map.of(WorkerConfig.TOP_P, 1.5)))
                .isInstanceOf(ConfigException.class).hasMessageContaining(WorkerConfig.TOP_P);
        assertThatThrownBy(() -> new WorkerConfig(Map.of(WorkerConfig.POLICY_NAME, "")))
                .isInstanceOf(ConfigException.class).hasMessageContaining(WorkerConfig.POLICY_NAME);
    }
}
