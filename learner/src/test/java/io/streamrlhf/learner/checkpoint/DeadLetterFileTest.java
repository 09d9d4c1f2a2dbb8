package io.streamrlhf.learner.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.models.checkpoint.CheckpointException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeadLetterFileTest {

    @TempDir
    Path dir;

    private static ProducerRecord<byte[], byte[]> letter(String value, String error) {
        RecordHeaders headers = new RecordHeaders();
        headers.add("dlq.error", error.getBytes(StandardCharsets.UTF_8));
        headers.add("dlq.source.offset", null);
        return new ProducerRecord<>("rlhf.scored.dlq", null, null, "k".getBytes(StandardCharsets.UTF_8),
                value == null ? null : value.getBytes(StandardCharsets.UTF_8), headers);
    }

    private static void assertSame(List<ProducerRecord<byte[], byte[]>> actual,
                                   List<ProducerRecord<byte[], byte[]>> expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            ProducerRecord<byte[], byte[]> a = actual.get(i);
            ProducerRecord<byte[], byte[]> e = expected.get(i);
            assertThat(a.topic()).isEqualTo(e.topic());
            assertThat(a.key()).isEqualTo(e.key());
            assertThat(a.value()).isEqualTo(e.value());
            assertThat(a.headers().toArray()).hasSameSizeAs(e.headers().toArray());
            for (int h = 0; h < e.headers().toArray().length; h++) {
                assertThat(a.headers().toArray()[h].key()).isEqualTo(e.headers().toArray()[h].key());
                assertThat(a.headers().toArray()[h].value()).isEqualTo(e.headers().toArray()[h].value());
            }
        }
    }

    @Test
    void lettersRoundTripWithTheirHeadersAndNulls() {
        List<ProducerRecord<byte[], byte[]>> letters = List.of(letter("bad avro", "unknown schema id 99"),
                letter(null, "tombstone on scored"), letter("", "ünïcode ✓"));
        assertSame(DeadLetterFile.decode(DeadLetterFile.encode(letters)), letters);
        assertThat(DeadLetterFile.decode(DeadLetterFile.encode(List.of()))).isEmpty();
    }

    @Test
    void aDamagedFileIsRefusedNamingWhatIsWrong() {
        byte[] good = DeadLetterFile.encode(List.of(letter("v", "e")));
        assertThatThrownBy(() -> DeadLetterFile.decode(Arrays.copyOf(good, good.length - 3)))
                .hasMessageContaining("truncated");
        assertThatThrownBy(() -> DeadLetterFile.decode("not a dead-letter file".getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("not a dead-letter file");
        byte[] longer = Arrays.copyOf(good, good.length + 2);
        assertThatThrownBy(() -> DeadLetterFile.decode(longer)).hasMessageContaining("after the last record");
    }

    @Test
    void aCheckpointKeepsTheDeadLettersItCoversUntilItIsPublished() throws Exception {
        LearnerCheckpointStore store = new LearnerCheckpointStore(dir);
        List<ProducerRecord<byte[], byte[]>> letters = List.of(letter("one", "e1"), letter("two", "e2"));
        LearnerCheckpoint v1 = new LearnerCheckpoint(1, 0, 2, 4, new double[] {3, 0.5, 1.25},
                LearnerCheckpointStoreTest.policy(1), Map.of("rlhf.scored-0", 12L), List.of(), Map.of());
        store.save(v1, LearnerCheckpointStore.NO_EPOCH, letters);
        assertSame(store.deadLetters(1), letters);
        assertThat(store.loadNewest()).as("the version still loads").isPresent();

        LearnerCheckpoint v2 = new LearnerCheckpoint(2, 1, 3, 6, new double[] {3, 0.5, 1.25},
                LearnerCheckpointStoreTest.policy(2), Map.of("rlhf.scored-0", 14L), List.of(), Map.of());
        store.save(v2);
        assertThat(store.deadLetters(2)).as("a version without dead letters").isEmpty();

        // A changed file would publish other letters than the ones the version covers: refused.
        Path file = store.dir(1).resolve(DeadLetterFile.NAME);
        Files.write(file, DeadLetterFile.encode(List.of(letter("forged", "e"))));
        assertThatThrownBy(() -> store.deadLetters(1)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(DeadLetterFile.NAME).hasMessageContaining("sha256");
    }
}
