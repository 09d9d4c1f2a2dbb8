package io.streamrlhf.learner.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Map;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** {@code learner.start}: where a partition no checkpoint knows is first read. */
class StartPositionTest {
    private static final TopicPartition TP = new TopicPartition("rescored", 0);

    private static MockConsumer<byte[], byte[]> consumer() {
        MockConsumer<byte[], byte[]> c = new MockConsumer<>(OffsetResetStrategy.EARLIEST);
        c.assign(java.util.List.of(TP));
        c.updateBeginningOffsets(Map.of(TP, 10L));
        c.updateEndOffsets(Map.of(TP, 50L));
        return c;
    }

    @Test
    void eachPositionSeeksWhereItSays() {
        assertThat(StartPosition.parse("earliest").seek(consumer(), TP)).isEqualTo(10L);
        assertThat(StartPosition.parse("LATEST").seek(consumer(), TP)).isEqualTo(50L);
        assertThat(StartPosition.parse("25").seek(consumer(), TP)).isEqualTo(25L);
        assertThat(StartPosition.parse("3").seek(consumer(), TP)).as("older than the retention").isEqualTo(10L);
        StartPosition time = StartPosition.parse("2026-12-01T00:00:00Z");
        assertThat(time.kind()).isEqualTo(StartPosition.Kind.TIME);
        assertThat(time.time()).isEqualTo(Instant.parse("2026-12-01T00:00:00Z"));
    }

    @Test
    void badPositionsAreRefusedByTheConfigNamingTheKey() {
        assertThatThrownBy(() -> StartPosition.parse("yesterday")).hasMessageContaining("'yesterday' is not earliest");
        assertThatThrownBy(() -> StartPosition.parse("-4")).hasMessageContaining(">= 0");
        assertThatThrownBy(() -> new LearnerConfig(Map.of(LearnerConfig.INIT_CHECKPOINT, "/x",
                LearnerConfig.START, "soon"))).isInstanceOf(ConfigException.class)
                .hasMessageContaining(LearnerConfig.START);
        LearnerConfig config = new LearnerConfig(Map.of(LearnerConfig.INIT_CHECKPOINT, "/x",
                LearnerConfig.SCORED_TOPIC, "rlhf.scored.rescored"));
        assertThat(config.scoredTopic()).contains("rlhf.scored.rescored");
        assertThat(config.start().kind()).isEqualTo(StartPosition.Kind.EARLIEST);
    }
}
