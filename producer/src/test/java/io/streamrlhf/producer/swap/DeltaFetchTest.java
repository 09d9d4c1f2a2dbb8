package io.streamrlhf.producer.swap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointDelta;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.producer.TestPolicies;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.chunks.ChunkReadException;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Delta versions through the fetcher: applied to the held base, or to a base rebuilt from the topic's chain. */
class DeltaFetchTest {

    /** Version → byte-stream checkpoint (full) of versions 1..4, and what lies on the "topic". */
    static final Map<Long, byte[]> FULL = new HashMap<>();

    /** Versions 1..5 of one policy, each moved by the same step as the one before: what momentum looks like. */
    static final Map<Long, byte[]> MOVING = new HashMap<>();

    @BeforeAll
    static void makeVersions() {
        for (long v = 1; v <= 4; v++) {
            // Different seeds stand in for trained weights; the delta is exact either way.
            FULL.put(v, CheckpointStore.toBytes(TestPolicies.checkpoint(v)));
        }
        Checkpoint first = TestPolicies.checkpoint(1);
        byte[] weights = first.weights();
        for (long v = 1; v <= 5; v++) {
            MOVING.put(v, CheckpointStore.toBytes(new Checkpoint(first.kind(), first.architecture(), first.config(),
                    weights, null, Map.of("version", Long.toString(v)), first.modelFiles())));
            try (NDManager m = NDManager.newBaseManager()) {
                m.getEngine().setRandomSeed(5);
                NDList next = new NDList();
                for (NDArray a : NDList.decode(m, weights)) {
                    NDArray moved = a.add(m.randomUniform(-1f, 1f, a.getShape()).mul(1e-4f));
                    moved.setName(a.getName());
                    next.add(moved);
                }
                weights = next.encode();
            }
        }
    }

    /** Version 1 full, 2..5 deltas as the publisher makes them: each after the first may carry momentum. */
    static CheckpointFetcher.ChunkSource movingTopic() {
        Map<Long, byte[]> chunks = new HashMap<>();
        chunks.put(1L, MOVING.get(1L));
        for (long v = 2; v <= 5; v++) {
            chunks.put(v, CheckpointDelta.encode(v - 1, MOVING.get(v - 1), v == 2 ? null : MOVING.get(v - 2),
                    MOVING.get(v)));
        }
        assertThat(CheckpointDelta.header(chunks.get(3L)).needsPrior()).as("version 3 carries momentum").isTrue();
        return (topic, name, version) -> chunks.get(version);
    }

    static PolicyVersion movingRecord(long v) {
        String sha = CheckpointStore.sha256(CheckpointStore.manifestOf(MOVING.get(v)));
        PolicyVersion r = TestPolicies.record("m", v, "kafka:checkpoints/m/" + v, sha);
        return PolicyVersion.newBuilder(r).setDeltaBaseVersion(v == 1 ? null : v - 1).build();
    }

    /** A topic with version 1 full and 2..4 as deltas to the version before; {@code gone} versions are tombstoned. */
    static CheckpointFetcher.ChunkSource topic(long... gone) {
        Map<Long, byte[]> chunks = new HashMap<>();
        chunks.put(1L, FULL.get(1L));
        for (long v = 2; v <= 4; v++) {
            chunks.put(v, CheckpointDelta.encode(v - 1, FULL.get(v - 1), FULL.get(v)));
        }
        for (long v : gone) {
            chunks.remove(v);
        }
        return (topic, name, version) -> {
            byte[] bytes = chunks.get(version);
            if (bytes == null) {
                throw new ChunkReadException("no chunks of " + name + "/" + version + " on " + topic);
            }
            return bytes;
        };
    }

    static PolicyVersion record(long v) {
        String sha = CheckpointStore.sha256(CheckpointStore.manifestOf(FULL.get(v)));
        PolicyVersion r = TestPolicies.record("p", v, "kafka:checkpoints/p/" + v, sha);
        return PolicyVersion.newBuilder(r).setDeltaBaseVersion(v == 1 ? null : v - 1).build();
    }

    @Test
    void aDeltaOnTheHeldVersionGivesTheFullCheckpoint() {
        CheckpointFetcher fetcher = new CheckpointFetcher(topic());
        fetcher.fetch(record(1));
        Checkpoint two = fetcher.fetch(record(2));
        assertThat(CheckpointStore.toBytes(two)).isEqualTo(FULL.get(2L));
    }

    @Test
    void aFreshWorkerWalksBackToTheFullVersionAndForward() {
        Checkpoint four = new CheckpointFetcher(topic()).fetch(record(4));
        assertThat(CheckpointStore.toBytes(four)).isEqualTo(FULL.get(4L));
    }

    @Test
    void aWorkerThatSkippedAVersionRebuildsItsBase() {
        CheckpointFetcher fetcher = new CheckpointFetcher(topic());
        fetcher.fetch(record(2));
        assertThat(CheckpointStore.toBytes(fetcher.fetch(record(4)))).isEqualTo(FULL.get(4L));
    }

    @Test
    void deltasThatCarryMomentumRebuildInOrderAfterASkipAndFromNothing() {
        CheckpointFetcher inOrder = new CheckpointFetcher(movingTopic());
        for (long v = 1; v <= 5; v++) {
            assertThat(CheckpointStore.toBytes(inOrder.fetch(movingRecord(v)))).as("version %d", v)
                    .isEqualTo(MOVING.get(v));
        }
        CheckpointFetcher skipping = new CheckpointFetcher(movingTopic());
        skipping.fetch(movingRecord(1));
        assertThat(CheckpointStore.toBytes(skipping.fetch(movingRecord(3)))).isEqualTo(MOVING.get(3L));
        assertThat(CheckpointStore.toBytes(skipping.fetch(movingRecord(5)))).isEqualTo(MOVING.get(5L));
        assertThat(CheckpointStore.toBytes(new CheckpointFetcher(movingTopic()).fetch(movingRecord(5))))
                .isEqualTo(MOVING.get(5L));
    }

    @Test
    void aMissingBaseIsRefusedNamingTheVersions() {
        assertThatThrownBy(() -> new CheckpointFetcher(topic(1)).fetch(record(3)))
                .isInstanceOf(CheckpointRefusedException.class)
                .hasMessageContaining("version 3")
                .hasMessageContaining("delta on version 2")
                .hasMessageContaining("holds no version")
                .hasMessageContaining("version 1 of its chain cannot be read");
    }
}
