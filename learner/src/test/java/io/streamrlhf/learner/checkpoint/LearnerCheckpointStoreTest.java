package io.streamrlhf.learner.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.ModelKind;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LearnerCheckpointStoreTest {

    @TempDir
    Path dir;

    private static LearnerCheckpoint checkpoint(long version) {
        Checkpoint policy = new Checkpoint(ModelKind.POLICY, "transformer", new TransformerConfig(8, 8, 4, 1, 1),
                new byte[] {1, 2, 3, (byte) version}, new byte[] {9, 9}, Map.of("version", Long.toString(version)));
        List<LedgerEntry> ledger = List.of(new LedgerEntry("g-1", 1, LedgerEntry.Outcome.TRAINED),
                new LedgerEntry("g-2", version, LedgerEntry.Outcome.DROPPED_STALE));
        return new LearnerCheckpoint(version, version - 1, 2 * version, 4 * version, new double[] {3, 0.5, 1.25}, policy,
                Map.of("rlhf.scored-0", 17L, "rlhf.scored-1", 4L), ledger, Map.of("reward/mean", 0.25));
    }

    @Test
    void roundTripsEveryPart() {
        LearnerCheckpointStore store = new LearnerCheckpointStore(dir);
        store.save(checkpoint(3));
        LearnerCheckpoint back = store.loadNewest().orElseThrow();
        assertThat(back.version()).isEqualTo(3);
        assertThat(back.parentVersion()).isEqualTo(2);
        assertThat(back.updates()).isEqualTo(6);
        assertThat(back.optimizerSteps()).isEqualTo(12);
        assertThat(back.scoreMoments()).containsExactly(3, 0.5, 1.25);
        assertThat(back.offsets()).isEqualTo(Map.of("rlhf.scored-0", 17L, "rlhf.scored-1", 4L));
        assertThat(back.ledger()).isEqualTo(checkpoint(3).ledger());
        assertThat(back.metrics()).containsEntry("reward/mean", 0.25);
        assertThat(back.policy().weights()).containsExactly(1, 2, 3, 3);
        assertThat(back.policy().optimizerState()).containsExactly(9, 9);
        assertThat(store.manifestSha256(3)).hasSize(64);
    }

    @Test
    void newestCompleteVersionWinsAndCorruptOnesAreSkipped() throws Exception {
        LearnerCheckpointStore store = new LearnerCheckpointStore(dir);
        store.save(checkpoint(1));
        store.save(checkpoint(2));
        // an interrupted save leaves only a temporary directory: ignored and cleaned
        Files.createDirectories(dir.resolve(".tmp-v000000000003-x"));
        assertThat(store.loadNewest().orElseThrow().version()).isEqualTo(2);
        assertThat(Files.exists(dir.resolve(".tmp-v000000000003-x"))).isFalse();
        // a corrupted ledger fails its sha256: the previous version is used
        Files.write(store.dir(2).resolve("ledger.tsv.gz"), new byte[] {0});
        assertThat(store.loadNewest().orElseThrow().version()).isEqualTo(1);
        assertThatThrownBy(() -> store.load(2)).isInstanceOf(CheckpointException.class).hasMessageContaining("sha256");
    }

    @Test
    void versionsAreWrittenOnceAndPruned() {
        LearnerCheckpointStore store = new LearnerCheckpointStore(dir);
        for (long v = 1; v <= 4; v++) {
            store.save(checkpoint(v));
        }
        assertThatThrownBy(() -> store.save(checkpoint(4))).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("already exists");
        store.prune(2);
        assertThat(store.versions()).containsExactly(3L, 4L);
    }
}
