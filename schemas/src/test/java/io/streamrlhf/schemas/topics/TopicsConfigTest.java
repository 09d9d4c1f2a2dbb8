package io.streamrlhf.schemas.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class TopicsConfigTest {
    @Test
    void defaults() {
        TopicsConfig config = new TopicsConfig(Map.of());
        assertThat(config.prefix()).isEqualTo("rlhf.");
        assertThat(config.partitions()).isEqualTo(3);
        assertThat(config.replicationFactor()).isEmpty();
        assertThat(config.minInsyncReplicas()).isEmpty();
        assertThat(config.streamRetentionMs()).isEqualTo(7L * 24 * 3600 * 1000);
        assertThat(config.metricsRetentionMs()).isEqualTo(30L * 24 * 3600 * 1000);
        assertThat(config.dlqRetentionMs()).isEqualTo(30L * 24 * 3600 * 1000);
        assertThat(config.checkpointsKept()).isEqualTo(3);
        assertThat(TopicsConfig.definition().names()).contains(TopicsConfig.PREFIX, TopicsConfig.PARTITIONS,
                TopicsConfig.REPLICATION_FACTOR);
    }

    @Test
    void stringsFromPropertiesFilesAreParsed() {
        TopicsConfig config = new TopicsConfig(Map.of(TopicsConfig.PREFIX, "", TopicsConfig.PARTITIONS, "12",
                TopicsConfig.REPLICATION_FACTOR, "3"));
        assertThat(config.prefix()).isEmpty();
        assertThat(config.partitions()).isEqualTo(12);
        assertThat(config.replicationFactor()).isEqualTo(Optional.of((short) 3));
    }

    @Test
    void invalidValuesAreRefusedNamingTheKey() {
        assertThatThrownBy(() -> new TopicsConfig(Map.of(TopicsConfig.PREFIX, "with space.")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("topic.prefix")
                .hasMessageContaining("letters, digits");
        assertThatThrownBy(() -> new TopicsConfig(Map.of(TopicsConfig.PARTITIONS, 0)))
                .isInstanceOf(ConfigException.class).hasMessageContaining("topic.partitions");
        assertThatThrownBy(() -> new TopicsConfig(Map.of(TopicsConfig.REPLICATION_FACTOR, "0")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("topic.replication.factor");
        assertThatThrownBy(() -> new TopicsConfig(Map.of(TopicsConfig.STREAM_RETENTION_MS, "-2")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("topic.stream.retention.ms");
        // One kept version would tombstone the one before the newest while a worker may still be fetching it.
        assertThatThrownBy(() -> new TopicsConfig(Map.of(TopicsConfig.CHECKPOINTS_KEPT, "1")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("topic.checkpoints.kept");
        assertThat(new TopicsConfig(Map.of(TopicsConfig.CHECKPOINTS_KEPT, "2")).checkpointsKept()).isEqualTo(2);
    }

    @Test
    void minInsyncReplicasRefusedBelowOne() {
        assertThatThrownBy(() -> new TopicsConfig(Map.of(TopicsConfig.MIN_INSYNC_REPLICAS, "0")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("topic.min.insync.replicas");
    }

    @Test
    void minInsyncReplicasIsParsedAndMayNotExceedTheReplicationFactor() {
        TopicsConfig config = new TopicsConfig(Map.of(TopicsConfig.REPLICATION_FACTOR, "3",
                TopicsConfig.MIN_INSYNC_REPLICAS, "2"));
        assertThat(config.minInsyncReplicas()).isEqualTo(Optional.of(2));
        assertThatThrownBy(() -> new TopicsConfig(Map.of(TopicsConfig.REPLICATION_FACTOR, "1",
                TopicsConfig.MIN_INSYNC_REPLICAS, "2")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("topic.min.insync.replicas")
                .hasMessageContaining("must not exceed topic.replication.factor (1)");
    }
}
