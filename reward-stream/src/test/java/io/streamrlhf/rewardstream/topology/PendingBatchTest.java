package io.streamrlhf.rewardstream.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.rewardstream.Fixtures;
import io.streamrlhf.schemas.avro.Generation;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class PendingBatchTest {

    private static BufferedRecord record(int i) {
        return new BufferedRecord("p" + i, ("value-" + i).getBytes(StandardCharsets.UTF_8), 1000L + i, "t.gen", 0,
                i, 5000L + i);
    }

    private static List<Long> offsets(PendingBatch batch) {
        return batch.records().stream().map(BufferedRecord::offset).toList();
    }

    @Test
    void encodesInOrderDropsFromTheFrontAndEncodesRanges() {
        PendingBatch batch = new PendingBatch();
        for (int i = 0; i < 5; i++) {
            batch.add(record(i), Fixtures.generation("g" + i, "p" + i, "text"));
        }
        assertThat(batch.enqueuedAtMs(0)).isEqualTo(5000L);
        PendingBatch back = PendingBatch.fromBytes(batch.toBytes(), r -> null);
        assertThat(offsets(back)).containsExactly(0L, 1L, 2L, 3L, 4L);
        assertThat(back.records().get(3).key()).isEqualTo("p3");
        assertThat(new String(back.records().get(3).value(), StandardCharsets.UTF_8)).isEqualTo("value-3");

        // The two store values (in flight, waiting) read back into one batch in input order.
        PendingBatch joined = PendingBatch.fromBytes(batch.toBytes(0, 2), r -> null);
        joined.addAll(batch.toBytes(2, 5), r -> null);
        assertThat(offsets(joined)).containsExactly(0L, 1L, 2L, 3L, 4L);
        assertThat(PendingBatch.fromBytes(batch.toBytes(2, 2), r -> null).isEmpty()).isTrue();

        batch.dropFirst(2);
        assertThat(offsets(batch)).containsExactly(2L, 3L, 4L);
        assertThat(batch.generations()).extracting(Generation::getGenerationId).containsExactly("g2", "g3", "g4");
        assertThat(offsets(PendingBatch.fromBytes(batch.toBytes(), r -> null))).containsExactly(2L, 3L, 4L);
        assertThatThrownBy(() -> batch.dropFirst(4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PendingBatch.fromBytes(new byte[] {7}, r -> null))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("format 7");
    }
}
