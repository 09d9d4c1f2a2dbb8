package io.streamrlhf.producer.swap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

    @BeforeAll
    static void makeVersions() {
        for (long v = 1; v <= 4; v++) {
            // Different seeds stand in for trained weights; the delta is exact either way.
            FULL.put(v, CheckpointStore.toBytes(TestPolicies.checkpoint(v)));
        }
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
    void aMissingBaseIsRefusedNamingTheVersions() {
        assertThatThrownBy(() -> new CheckpointFetcher(topic(1)).fetch(record(3)))
                .isInstanceOf(CheckpointRefusedException.class)
                .hasMessageContaining("version 3")
                .hasMessageContaining("delta on version 2")
                .hasMessageContaining("holds no version")
                .hasMessageContaining("version 1 of its chain cannot be read");
    }
}
