package io.streamrlhf.learner.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.checkpoint.ModelKind;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.io.ByteArrayOutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LearnerCheckpointStoreTest {

    private static final String P0 = "rlhf.scored-0";

    @TempDir
    Path dir;

    static Checkpoint policy(long version) {
        return new Checkpoint(ModelKind.POLICY, "transformer", new TransformerConfig(8, 8, 4, 1, 1),
                new byte[] {1, 2, 3, (byte) version}, new byte[] {9, 9}, Map.of("version", Long.toString(version)));
    }

    /** Entries of update {@code version}: two records of partition 0 at offsets 10·version and 10·version+1. */
    private static List<LedgerEntry> entriesOf(long version) {
        return List.of(new LedgerEntry("g-" + version + "a", version, LedgerEntry.Outcome.TRAINED, P0, 10 * version),
                new LedgerEntry("g-" + version + "b", version, LedgerEntry.Outcome.DROPPED_STALE, P0, 10 * version + 1));
    }

    /** Appends update {@code version}'s entries to {@code previous}'s chain and saves version {@code version}. */
    private static LearnerCheckpoint commit(LearnerCheckpointStore store, LearnerCheckpoint previous, long version) {
        List<LedgerSegment> chain = store.appendLedger(previous == null ? List.of() : previous.ledger(),
                entriesOf(version));
        LearnerCheckpoint c = new LearnerCheckpoint(version, version - 1, 2 * version, 4 * version,
                new double[] {3, 0.5, 1.25}, policy(version), Map.of(P0, 10 * version + 2, "rlhf.scored-1", 4L),
                chain, Map.of("reward/mean", 0.25));
        store.save(c);
        return c;
    }

    private static LearnerCheckpoint next(LearnerCheckpointStore store, LearnerCheckpoint previous, long version) {
        List<LedgerSegment> chain = store.appendLedger(previous == null ? List.of() : previous.ledger(),
                entriesOf(version));
        return new LearnerCheckpoint(version, version - 1, 2 * version, 4 * version, new double[] {3, 0.5, 1.25},
                policy(version), Map.of(P0, 10 * version + 2), chain, Map.of());
    }

    @Test
    void leaderEpochsFenceOlderWritersAndSetAsideWhatTheyWroteAfterATakeover() throws Exception {
        LearnerCheckpointStore store = new LearnerCheckpointStore(dir);
        LearnerCheckpoint v1 = next(store, null, 1);
        store.save(v1, 10);
        assertThat(store.leaderEpoch(1)).isEqualTo(10);
        // epoch 20 takes over from version 1; the fenced leader of epoch 10 then writes version 2 (a zombie write)
        LearnerCheckpoint zombie = next(store, v1, 2);
        store.save(zombie, 10);
        assertThat(store.loadNewest(20, 1).orElseThrow().version()).as("the zombie's version is skipped").isEqualTo(1);
        assertThat(store.loadNewest().orElseThrow().version()).as("without the takeover it would be loaded")
                .isEqualTo(2);
        // the new leader writes its own version 2: the zombie's is moved aside, not overwritten
        LearnerCheckpoint own = next(store, v1, 2);
        store.save(own, 20);
        assertThat(store.leaderEpoch(2)).isEqualTo(20);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).anyMatch(n -> n.startsWith("rejected-v000000000002"));
        }
        // the zombie can write nothing more: a newer epoch's checkpoint is on disk
        assertThatThrownBy(() -> store.save(next(store, zombie, 3), 10)).isInstanceOf(CheckpointFencedException.class)
                .hasMessageContaining("leader epoch 20, newer than this learner's 10");
        assertThat(store.versions()).containsExactly(1L, 2L);
        // a fenced publication takes back only the writer's own version
        assertThat(store.discard(2, 10)).isFalse();
        assertThat(store.discard(2, 20)).isTrue();
        assertThat(store.versions()).containsExactly(1L);
    }

    @Test
    void roundTripsEveryPart() {
        LearnerCheckpointStore store = new LearnerCheckpointStore(dir);
        LearnerCheckpoint c1 = commit(store, null, 1);
        commit(store, c1, 2);
        LearnerCheckpoint back = store.loadNewest().orElseThrow();
        assertThat(back.version()).isEqualTo(2);
        assertThat(back.parentVersion()).isEqualTo(1);
        assertThat(back.updates()).isEqualTo(4);
        assertThat(back.optimizerSteps()).isEqualTo(8);
        assertThat(back.scoreMoments()).containsExactly(3, 0.5, 1.25);
        assertThat(back.offsets()).isEqualTo(Map.of(P0, 22L, "rlhf.scored-1", 4L));
        assertThat(back.ledger()).hasSize(2);
        assertThat(back.ledgerEntries()).isEqualTo(4);
        List<LedgerEntry> all = new ArrayList<>(entriesOf(1));
        all.addAll(entriesOf(2));
        assertThat(store.readLedger(back)).as("segments concatenated in order").isEqualTo(all);
        assertThat(back.metrics()).containsEntry("reward/mean", 0.25);
        assertThat(back.policy().weights()).containsExactly(1, 2, 3, 2);
        assertThat(back.policy().optimizerState()).containsExactly(9, 9);
        assertThat(store.manifestSha256(2)).hasSize(64);
        // the version directory holds no ledger of its own any more
        assertThat(store.dir(2).resolve("ledger.tsv.gz")).doesNotExist();
    }

    @Test
    void newestCompleteVersionWinsAndCorruptOnesAreSkipped() throws Exception {
        LearnerCheckpointStore store = new LearnerCheckpointStore(dir);
        LearnerCheckpoint c1 = commit(store, null, 1);
        LearnerCheckpoint c2 = commit(store, c1, 2);
        // an interrupted save (or one in progress in another learner) leaves only a temporary directory: a load
        // ignores it and leaves it alone; the leader removes it
        Files.createDirectories(dir.resolve(".tmp-v000000000003-x"));
        Files.write(dir.resolve("ledger").resolve(".tmp-half-written"), new byte[] {1});
        assertThat(store.loadNewest().orElseThrow().version()).isEqualTo(2);
        assertThat(dir.resolve(".tmp-v000000000003-x")).exists();
        assertThat(dir.resolve("ledger").resolve(".tmp-half-written")).exists();
        store.removeLeftovers();
        assertThat(dir.resolve(".tmp-v000000000003-x")).doesNotExist();
        assertThat(dir.resolve("ledger").resolve(".tmp-half-written")).doesNotExist();
        assertThat(store.loadNewest().orElseThrow().version()).isEqualTo(2);

        // a tampered segment (same size, one byte changed) fails its sha256: the previous version is used
        Path newest = store.ledger().path(c2.ledger().get(1));
        byte[] bytes = Files.readAllBytes(newest);
        bytes[bytes.length - 5] ^= 1;
        Files.write(newest, bytes);
        assertThat(store.loadNewest().orElseThrow().version()).isEqualTo(1);
        assertThatThrownBy(() -> store.load(2)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(c2.ledger().get(1).file()).hasMessageContaining("sha256");

        // a missing segment: version 1's own segment is gone, so no checkpoint verifies
        Files.delete(store.ledger().path(c1.ledger().get(0)));
        assertThatThrownBy(() -> store.load(1)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(c1.ledger().get(0).file()).hasMessageContaining("missing");
        assertThat(store.loadNewest()).isEmpty();
    }

    @Test
    void alteredStateFailsTheManifest() throws Exception {
        LearnerCheckpointStore store = new LearnerCheckpointStore(dir);
        LearnerCheckpoint c1 = commit(store, null, 1);
        commit(store, c1, 2);
        // pointing version 2 at version 1's chain changes learner.json, which the manifest covers
        Path state = store.dir(2).resolve("learner.json");
        ObjectNode json = (ObjectNode) new ObjectMapper().readTree(state.toFile());
        json.putArray("ledger");
        Files.write(state, new ObjectMapper().writeValueAsBytes(json));
        assertThatThrownBy(() -> store.load(2)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("learner.json").hasMessageContaining("sha256");
        assertThat(store.loadNewest().orElseThrow().version()).isEqualTo(1);
    }

    @Test
    void aFallenBackLearnerCanCommitPastAnUnverifiableVersion() throws Exception {
        LearnerCheckpointStore store = new LearnerCheckpointStore(dir);
        LearnerCheckpoint c1 = commit(store, null, 1);
        LearnerCheckpoint c2 = commit(store, c1, 2);
        Files.delete(store.ledger().path(c2.ledger().get(1)));
        LearnerCheckpoint resumed = store.loadNewest().orElseThrow();
        assertThat(resumed.version()).isEqualTo(1);
        // redoing update 2 writes version 2 again: the broken one is set aside, not overwritten or fatal
        commit(store, resumed, 2);
        assertThat(store.load(2).ledgerEntries()).isEqualTo(4);
        try (Stream<Path> list = Files.list(dir)) {
            assertThat(list.map(p -> p.getFileName().toString())).anyMatch(n -> n.startsWith("rejected-v000000000002"));
        }
        assertThatThrownBy(() -> commit(store, c1, 2)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("already exists");
    }

    @Test
    void versionsAreWrittenOnceAndPrunedWithTheirSegments() {
        LearnerCheckpointStore store = new LearnerCheckpointStore(dir);
        LearnerCheckpoint c = null;
        for (long v = 1; v <= 4; v++) {
            c = commit(store, c, v);
        }
        LearnerCheckpoint last = c;
        assertThatThrownBy(() -> store.save(last)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("already exists");
        // a segment written just before a crash, never listed by a checkpoint
        LedgerSegment orphan = store.appendLedger(last.ledger(), entriesOf(5)).get(4);
        assertThat(store.ledger().files()).hasSize(5);
        store.prune(2);
        assertThat(store.versions()).containsExactly(3L, 4L);
        // versions 3 and 4 list segments 1..3 and 1..4: all four stay, the orphan goes
        assertThat(store.ledger().files()).hasSize(4)
                .noneMatch(n -> orphan.file().endsWith(n));
        assertThat(store.loadNewest().orElseThrow().ledgerEntries()).isEqualTo(8);
    }

    @Test
    void readsAndMigratesFormat1Checkpoints() throws Exception {
        // a checkpoint as the format-1 store wrote it: the whole ledger, without positions, in the version directory
        List<String> lines = List.of("1\tTRAINED\told-a", "1\tTRAINED\told-b", "2\tDROPPED_STALE\told-c");
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (Writer w = new OutputStreamWriter(new GZIPOutputStream(gz), StandardCharsets.UTF_8)) {
            for (String l : lines) {
                w.write(l + "\n");
            }
        }
        byte[] ledger = gz.toByteArray();
        ObjectNode state = new ObjectMapper().createObjectNode();
        state.put("formatVersion", 1).put("version", 1).put("parentVersion", 0).put("updates", 2)
                .put("optimizerSteps", 4);
        state.putArray("scoreMoments").add(2).add(0.1).add(0.3);
        state.putObject("offsets").put(P0, 3);
        state.putObject("metrics");
        byte[] stateBytes = new ObjectMapper().writeValueAsBytes(state);
        new VersionedDirectory(dir, "checkpoint").write(1, d -> {
            CheckpointStore.save(policy(1), d.resolve("policy"));
            Files.write(d.resolve("learner.json"), stateBytes);
            Files.write(d.resolve("ledger.tsv.gz"), ledger);
            return Map.of("learner.json", stateBytes, "ledger.tsv.gz", ledger, "policy/manifest.json",
                    Files.readAllBytes(d.resolve("policy/manifest.json")));
        });

        LearnerCheckpointStore store = new LearnerCheckpointStore(dir);
        LearnerCheckpoint v1 = store.loadNewest().orElseThrow();
        assertThat(v1.ledger()).singleElement().satisfies(s -> {
            assertThat(s.format()).isEqualTo(1);
            assertThat(s.entries()).isEqualTo(3);
            assertThat(s.lastUpdate()).isEqualTo(2);
        });
        assertThat(store.readLedger(v1)).extracting(LedgerEntry::generationId).containsExactly("old-a", "old-b", "old-c");
        assertThat(store.readLedger(v1)).noneMatch(LedgerEntry::hasPosition);

        // the next checkpoint copies the old ledger into a segment, so pruning version 1 loses nothing
        List<LedgerSegment> chain = store.appendLedger(v1.ledger(),
                List.of(new LedgerEntry("new-a", 3, LedgerEntry.Outcome.TRAINED, P0, 3)));
        store.save(new LearnerCheckpoint(2, 1, 3, 6, v1.scoreMoments(), policy(2), Map.of(P0, 4L), chain, Map.of()));
        store.prune(1);
        LearnerCheckpoint v2 = store.loadNewest().orElseThrow();
        assertThat(v2.version()).isEqualTo(2);
        assertThat(v2.ledger()).allSatisfy(s -> assertThat(s.format()).isEqualTo(2));
        assertThat(store.readLedger(v2)).extracting(LedgerEntry::generationId)
                .containsExactly("old-a", "old-b", "old-c", "new-a");
        // position-less entries are never forgotten by the de-duplication window
        DedupWindow window = DedupWindow.atOffsets(v2.offsets());
        store.forEachLedgerEntry(v2, window::add);
        assertThat(window.size()).isEqualTo(3);
        assertThat(window.contains("old-a")).isTrue();
        assertThat(window.contains("new-a")).isFalse();
    }
}
