package io.streamrlhf.producer;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.schemas.avro.PolicyVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/** Small policies over the world's vocabulary, saved as checkpoints, and their PolicyVersion records. */
public final class TestPolicies {

    /** Tiny, so sampling is cheap on two busy cores: d 32, one layer, context 32. */
    public static final TransformerConfig TINY = new TransformerConfig(Vocabulary.standard().size(), 32, 32, 1, 2);

    private TestPolicies() {
    }

    /** A freshly initialised tiny policy's checkpoint. */
    public static Checkpoint checkpoint(long seed) {
        try (TransformerPolicy policy = TransformerPolicy.create(TINY, seed)) {
            return policy.toCheckpoint(Map.of("seed", Long.toString(seed)), null);
        }
    }

    /** Saves {@code checkpoint} under {@code dir/name}. */
    public static Path save(Checkpoint checkpoint, Path dir, String name) {
        return CheckpointStore.save(checkpoint, dir.resolve(name));
    }

    /** The sha256 of a saved checkpoint's manifest, as the learner publishes it. */
    public static String manifestSha(Path checkpointDir) {
        try {
            return CheckpointStore.sha256(Files.readAllBytes(checkpointDir.resolve(CheckpointStore.MANIFEST)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A PolicyVersion record for a saved checkpoint, with a file: URI. */
    public static PolicyVersion version(String name, long version, Path checkpointDir) {
        return record(name, version, checkpointDir.toUri().toString(), manifestSha(checkpointDir));
    }

    /** A PolicyVersion record. */
    public static PolicyVersion record(String name, long version, String uri, String sha256) {
        return PolicyVersion.newBuilder().setName(name).setVersion(version).setCheckpointUri(uri).setSha256(sha256)
                .setSizeBytes(0).setParentVersion(version > 0 ? version - 1 : null).setStep(null)
                .setMetrics(Map.of()).setCreatedAt(Instant.now()).build();
    }
}
