package io.streamrlhf.learner.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.models.checkpoint.CheckpointException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The learner state as one archive ({@link LearnerCheckpointStore#toBytes}) and its installation in another store
 * ({@link LearnerCheckpointStore#install}): what a standby on another machine, with a checkpoint directory of its own,
 * resumes from.
 */
class LearnerStateArchiveTest {

    private static final String P0 = "rlhf.scored-0";

    @TempDir
    Path dir;

    /** Versions 1..n in {@code store}, each one update of three entries, saved with {@code epoch}. */
    private static LearnerCheckpoint commitVersions(LearnerCheckpointStore store, int n, long epoch) {
        LearnerCheckpoint previous = null;
        for (long v = 1; v <= n; v++) {
            List<LedgerEntry> entries = List.of(
                    new LedgerEntry("g-" + v + "a", v, LedgerEntry.Outcome.TRAINED, P0, 10 * v),
                    new LedgerEntry("g-" + v + "b", v, LedgerEntry.Outcome.TRAINED, P0, 10 * v + 1),
                    new LedgerEntry("g-" + v + "c", v, LedgerEntry.Outcome.DROPPED_STALE, P0, 10 * v + 2));
            List<LedgerSegment> chain = store.appendLedger(previous == null ? List.of() : previous.ledger(), entries);
            LearnerCheckpoint c = new LearnerCheckpoint(v, v - 1, v, 2 * v, new double[] {3 * v, 0.5, 1.25},
                    LearnerCheckpointStoreTest.policy(v), Map.of(P0, 10 * v + 3, "rlhf.scored-1", 4L), chain,
                    Map.of("reward/mean", 0.25 * v), LearnerCheckpointStoreTest.policy(100 + v));
            store.save(c, epoch);
            previous = c;
        }
        return previous;
    }

    @Test
    void anArchiveInstalledInAnEmptyStoreResumesExactlyAsTheOriginal() {
        // fan-out 2: ten versions leave a chain of merged segments of several levels
        LearnerCheckpointStore leader = new LearnerCheckpointStore(dir.resolve("leader"), 2);
        LearnerCheckpoint newest = commitVersions(leader, 10, 7);
        LearnerCheckpoint original = leader.load(10);
        byte[] archive = leader.toBytes(newest);
        assertThat(leader.toBytes(newest)).as("the same checkpoint archives to the same bytes").isEqualTo(archive);

        Path standbyDir = dir.resolve("standby");
        LearnerCheckpointStore standby = new LearnerCheckpointStore(standbyDir);
        assertThat(standby.versions()).isEmpty();
        LearnerCheckpoint restored = standby.install(10, archive);

        assertThat(restored.version()).isEqualTo(10);
        assertThat(restored.parentVersion()).isEqualTo(9);
        assertThat(restored.updates()).isEqualTo(original.updates());
        assertThat(restored.optimizerSteps()).isEqualTo(original.optimizerSteps());
        assertThat(restored.scoreMoments()).containsExactly(original.scoreMoments());
        assertThat(restored.offsets()).isEqualTo(original.offsets());
        assertThat(restored.metrics()).isEqualTo(original.metrics());
        assertThat(restored.policy().weights()).isEqualTo(original.policy().weights());
        assertThat(restored.policy().optimizerState()).isEqualTo(original.policy().optimizerState());
        assertThat(restored.critic().weights()).isEqualTo(original.critic().weights());
        assertThat(restored.critic().optimizerState()).isEqualTo(original.critic().optimizerState());
        assertThat(restored.ledger()).isEqualTo(original.ledger());
        assertThat(restored.ledger().size()).as("merged segments travel too").isGreaterThan(1);
        assertThat(standby.readLedger(restored)).hasSize(30).isEqualTo(leader.readLedger(original));
        assertThat(standby.leaderEpoch(10)).as("the writer's epoch travels with it").isEqualTo(7);
        assertThat(standby.manifestSha256(10)).isEqualTo(leader.manifestSha256(10));
        assertThat(standby.loadNewest().orElseThrow().version()).isEqualTo(10);

        // the standby goes on from it: its next version appends to the installed chain
        List<LedgerSegment> next = standby.appendLedger(restored.ledger(),
                List.of(new LedgerEntry("g-11a", 11, LedgerEntry.Outcome.TRAINED, P0, 113)));
        standby.save(new LearnerCheckpoint(11, 10, 11, 22, new double[] {1, 0, 0},
                LearnerCheckpointStoreTest.policy(11), Map.of(P0, 114L), next, Map.of()), 8);
        assertThat(standby.readLedger(standby.load(11))).hasSize(31);
    }

    @Test
    void anInstalledVersionReplacesALocalOneOfTheSameNumber() throws IOException {
        LearnerCheckpointStore leader = new LearnerCheckpointStore(dir.resolve("leader"));
        LearnerCheckpoint published = commitVersions(leader, 2, 20);
        LearnerCheckpointStore standby = new LearnerCheckpointStore(dir.resolve("standby"));
        commitVersions(standby, 2, 10);  // its own version 2, never published

        standby.install(2, leader.toBytes(published));

        assertThat(standby.leaderEpoch(2)).isEqualTo(20);
        try (Stream<Path> files = Files.list(standby.root())) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .as("the local version is kept aside for an operator").anyMatch(n -> n.startsWith("rejected-v"));
        }
    }

    @Test
    void aTamperedFileFailsItsCheckAndNamesIt() throws IOException {
        LearnerCheckpointStore leader = new LearnerCheckpointStore(dir.resolve("leader"));
        byte[] archive = leader.toBytes(commitVersions(leader, 2, 1));
        byte[] tampered = rewrite(archive, (name, data) -> {
            if (name.equals("version/learner.json")) {
                return new String(data).replace("\"updates\" : 2", "\"updates\" : 3").getBytes();
            }
            return data;
        });
        assertThat(tampered).isNotEqualTo(archive);

        LearnerCheckpointStore standby = new LearnerCheckpointStore(dir.resolve("standby"));
        assertThatThrownBy(() -> standby.install(2, tampered)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("learner.json fails its sha256 check");
        assertThat(standby.loadNewest()).as("nothing unverified is resumed from").isEmpty();
    }

    @Test
    void entriesOutsideTheLayoutAreRefusedByName() throws IOException {
        LearnerCheckpointStore leader = new LearnerCheckpointStore(dir.resolve("leader"));
        byte[] archive = leader.toBytes(commitVersions(leader, 1, 1));
        LearnerCheckpointStore standby = new LearnerCheckpointStore(dir.resolve("standby"));

        byte[] climbing = withEntry(archive, "version/../../escaped.txt");
        assertThatThrownBy(() -> standby.install(1, climbing)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'version/../../escaped.txt' leaves the version's directory");
        byte[] stray = withEntry(archive, "etc/stray");
        assertThatThrownBy(() -> standby.install(1, stray)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("unexpected entry 'etc/stray'");
        byte[] badSegment = withEntry(archive, "ledger/not-a-segment.tsv.gz");
        assertThatThrownBy(() -> standby.install(1, badSegment)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'ledger/not-a-segment.tsv.gz' is not a ledger segment's name");
        assertThatThrownBy(() -> standby.install(1, new byte[] {1, 2, 3})).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("learner state archive of version 1");
        assertThat(Files.exists(dir.resolve("escaped.txt"))).isFalse();
    }

    private static byte[] withEntry(byte[] archive, String name) throws IOException {
        Map<String, byte[]> entries = read(archive);
        entries.put(name, new byte[] {42});
        return write(entries);
    }

    private static byte[] rewrite(byte[] archive, BiFunction<String, byte[], byte[]> change) throws IOException {
        Map<String, byte[]> entries = read(archive);
        entries.replaceAll(change);
        return write(entries);
    }

    private static Map<String, byte[]> read(byte[] archive) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(archive))) {
            ZipEntry e;
            while ((e = in.getNextEntry()) != null) {
                entries.put(e.getName(), in.readAllBytes());
            }
        }
        return entries;
    }

    private static byte[] write(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                out.putNextEntry(new ZipEntry(e.getKey()));
                out.write(e.getValue());
                out.closeEntry();
            }
        }
        return bytes.toByteArray();
    }
}
