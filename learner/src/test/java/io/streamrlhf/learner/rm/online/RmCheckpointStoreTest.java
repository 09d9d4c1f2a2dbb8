package io.streamrlhf.learner.rm.online;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints with offsets: round trip, the digest the versions carry, and a corrupt newest version skipped. */
class RmCheckpointStoreTest {

    private static final TransformerConfig SHAPE = new TransformerConfig(16, 16, 8, 1, 2);

    @TempDir
    Path dir;

    private static RmCheckpoint checkpoint(long version, long seed) {
        ModelRuntime.init(1);
        try (TransformerRewardModel a = TransformerRewardModel.create(SHAPE, seed);
             TransformerRewardModel b = TransformerRewardModel.create(SHAPE, seed + 1)) {
            List<Checkpoint> members = List.of(a.toCheckpoint(Map.of("name", "rm-0"), null),
                    b.toCheckpoint(Map.of("name", "rm-1"), null));
            return new RmCheckpoint(version, version - 1, members, Map.of("p-0", 10L * version, "p-1", 7L), 17 * version,
                    5 * version, Map.of("eval/pairwise_accuracy", 0.75, "strength/mean", Double.NaN));
        }
    }

    @Test
    void roundTripKeepsMembersOffsetsAndMetrics() throws Exception {
        RmCheckpointStore store = new RmCheckpointStore(dir);
        RmCheckpoint saved = checkpoint(3, 1);
        store.save(saved);
        RmCheckpoint loaded = store.loadNewest().orElseThrow();
        assertThat(loaded.version()).isEqualTo(3);
        assertThat(loaded.parentVersion()).isEqualTo(2);
        assertThat(loaded.offsets()).containsExactlyInAnyOrderEntriesOf(Map.of("p-0", 30L, "p-1", 7L));
        assertThat(loaded.pairsSeen()).isEqualTo(51);
        assertThat(loaded.metrics()).containsOnlyKeys("eval/pairwise_accuracy");  // NaN is not written
        assertThat(loaded.members()).hasSize(2);
        assertThat(loaded.members().get(1).weights()).isEqualTo(saved.members().get(1).weights());
        assertThat(store.memberSha256(3, 1)).isEqualTo(CheckpointStore.sha256(
                Files.readAllBytes(store.memberDir(3, 1).resolve(CheckpointStore.MANIFEST))));
        assertThat(store.memberSize(3, 0)).isGreaterThan(saved.members().get(0).weights().length);
        assertThatThrownBy(() -> store.save(saved)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("already exists");
    }

    @Test
    void aCorruptNewestVersionIsSkippedForTheOneBefore() throws Exception {
        RmCheckpointStore store = new RmCheckpointStore(dir);
        store.save(checkpoint(1, 1));
        store.save(checkpoint(2, 5));
        Files.writeString(store.dir(2).resolve("trainer.json"), "{\"version\":2,\"members\":2}");
        assertThatThrownBy(() -> store.load(2)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("trainer.json fails its sha256 check");
        assertThat(store.loadNewest().orElseThrow().version()).isEqualTo(1);
        store.prune(1);
        assertThat(store.versions()).containsExactly(2L);
    }
}
