package io.streamrlhf.models.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointCopyTest {

    private static final TransformerConfig SHAPE = new TransformerConfig(12, 8, 8, 1, 2);

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    private static Checkpoint checkpoint(int seed) {
        try (TransformerPolicy policy = TransformerPolicy.create(SHAPE, seed)) {
            return policy.toCheckpoint(Map.of("version", "0"), null);
        }
    }

    @Test
    void aStreamWithThePublishedSha256IsWrittenAndThenRecognised() {
        byte[] stream = CheckpointStore.toBytes(checkpoint(1));
        String sha = CheckpointStore.sha256(CheckpointStore.manifestOf(stream));
        Path dir = tmp.resolve("sft-v0");

        assertThat(CheckpointCopy.holds(dir, sha)).isFalse();
        CheckpointCopy.write(stream, sha, dir);

        assertThat(CheckpointCopy.holds(dir, sha)).isTrue();
        assertThat(CheckpointCopy.holds(dir, "00".repeat(32))).isFalse();
        assertThat(CheckpointStore.load(dir).weights()).isEqualTo(CheckpointStore.fromBytes(stream).weights());
    }

    @Test
    void aStreamWhoseManifestIsNotThePublishedOneIsRefusedAndNothingIsWritten() {
        byte[] stream = CheckpointStore.toBytes(checkpoint(1));
        String other = CheckpointStore.sha256(CheckpointStore.manifestOf(CheckpointStore.toBytes(checkpoint(2))));
        Path dir = tmp.resolve("sft-v0");

        assertThatThrownBy(() -> CheckpointCopy.write(stream, other, dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("the published sha256 is " + other);
        assertThat(dir).doesNotExist();
        assertThatThrownBy(() -> CheckpointCopy.write(new byte[] {1, 2, 3}, other, dir))
                .hasMessageContaining("not a checkpoint");
    }

    @Test
    void aDeltaIsRefusedNamingItsBase() {
        Checkpoint v1 = checkpoint(1);
        byte[] base = CheckpointStore.toBytes(v1);
        byte[] full = CheckpointStore.toBytes(new Checkpoint(v1.kind(), v1.architecture(), v1.config(),
                CheckpointDeltaTest.adamStep(v1.weights(), 1e-3, 3), null, Map.of("version", "2"), v1.modelFiles()));
        byte[] delta = CheckpointDelta.encode(1, base, full);
        String sha = CheckpointStore.sha256(CheckpointStore.manifestOf(full));

        assertThatThrownBy(() -> CheckpointCopy.write(delta, sha, tmp.resolve("v2")))
                .hasMessageContaining("delta on version 1");
    }
}
