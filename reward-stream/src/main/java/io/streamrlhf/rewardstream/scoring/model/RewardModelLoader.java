package io.streamrlhf.rewardstream.scoring.model;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.checkpoint.ModelKind;
import io.streamrlhf.models.reward.RewardModel;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.torchscript.TorchScriptRewardModel;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.chunks.CheckpointChunkReader;
import io.streamrlhf.schemas.chunks.CheckpointUris;
import io.streamrlhf.schemas.chunks.ChunkIndex;
import io.streamrlhf.schemas.chunks.ChunkReadException;
import io.streamrlhf.schemas.chunks.ChunkUri;
import io.streamrlhf.schemas.signing.VersionVerifier;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Turns checkpoints into running reward models, after checking them: the manifest's sha256 against the published
 * one (the same check the policy workers make before a policy swap), then every file against the manifest. A
 * published version's checkpoint comes from a {@code file:} directory or, for a {@code kafka:} URI, from its chunks
 * on the checkpoints topic ({@link #fetchVerified}).
 */
public final class RewardModelLoader {

    private RewardModelLoader() {
    }

    /** A reward model for {@code checkpoint}, by its architecture ({@code transformer} or {@code torchscript}). */
    public static RewardModel build(Checkpoint checkpoint) {
        if (checkpoint.kind() != ModelKind.REWARD_MODEL) {
            throw new CheckpointException("checkpoint holds a " + checkpoint.kind() + ", not a REWARD_MODEL");
        }
        String architecture = checkpoint.architecture();
        if (TransformerRewardModel.ARCHITECTURE.equals(architecture)) {
            TransformerRewardModel model = TransformerRewardModel.fromCheckpoint(checkpoint);
            model.freeze(true); // inference only: no gradients kept
            return model;
        }
        if ("torchscript".equals(architecture)) {
            return TorchScriptRewardModel.fromCheckpoint(checkpoint, false);
        }
        throw new CheckpointException("reward checkpoint architecture '" + architecture
                + "' is not supported (expected transformer or torchscript)");
    }

    /**
     * Loads the checkpoint directory {@code dir}, verifying its manifest's sha256 against {@code expectedSha256}
     * first when that is not null.
     *
     * @throws CheckpointException naming the directory and the mismatch
     */
    public static Checkpoint loadVerified(Path dir, String expectedSha256) {
        if (expectedSha256 != null) {
            String actual = manifestSha256(dir);
            if (!actual.equalsIgnoreCase(expectedSha256.trim())) {
                throw new CheckpointException("checkpoint " + dir + ": manifest sha256 is " + actual
                        + " but the published version says " + expectedSha256 + "; refusing to load it");
            }
        }
        return CheckpointStore.load(dir);
    }

    /**
     * Fetches and verifies the checkpoint a published version points at: its chunks on the checkpoints topic for a
     * {@code kafka:} URI (straight from the partition and offsets the record's index names, when it has one), else
     * the directory of its {@code file:} URI.
     *
     * @param chunks reads chunks; null when this process has no Kafka settings (then {@code kafka:} is refused)
     * @throws CheckpointException naming the model, version and URI and what was wrong
     */
    public static Checkpoint fetchVerified(RewardModelVersion published, CheckpointChunkReader chunks) {
        return fetchVerified(published, chunks, VersionVerifier.OFF, new CheckpointUris(null, List.of()));
    }

    /**
     * As {@link #fetchVerified(RewardModelVersion, CheckpointChunkReader)}, first refusing a version that
     * {@code verifier} refuses (unsigned or wrongly signed while keys are configured) and a URI that {@code uris}
     * refuses ({@code ..}, another topic, outside the allowed roots), before anything is read.
     *
     * @throws CheckpointException naming the model, version and URI and what was wrong
     */
    public static Checkpoint fetchVerified(RewardModelVersion published, CheckpointChunkReader chunks,
                                           VersionVerifier verifier, CheckpointUris uris) {
        String uri = published.getCheckpointUri();
        String what = "reward model " + published.getName() + " version " + published.getVersion() + " (" + uri + ")";
        java.util.Optional<String> refusal = verifier.refusal(published);
        if (refusal.isPresent()) {
            throw new CheckpointException(what + " refused: " + refusal.get());
        }
        try {
            uris.check(uri);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(what + " refused: " + e.getMessage(), e);
        }
        if (!ChunkUri.isChunkUri(uri)) {
            return loadVerified(resolve(uri), published.getSha256());
        }
        if (chunks == null) {
            throw new CheckpointException(what + ": kafka: checkpoints need the scorer's Kafka settings to be read");
        }
        byte[] stream;
        try {
            ChunkUri at = ChunkUri.parse(uri);
            stream = chunks.read(at.topic(), at.prefix(), at.version(), ChunkIndex.ofNullable(
                    published.getChunksPartition(), published.getChunksFirstOffset(), published.getChunksLastOffset()));
        } catch (IllegalArgumentException | ChunkReadException e) {
            throw new CheckpointException(what + ": " + e.getMessage(), e);
        }
        return loadVerified(stream, published.getSha256(), what);
    }

    /**
     * Loads the byte-stream form of a checkpoint ({@link CheckpointStore#toBytes}), verifying the sha256 of the
     * manifest it carries against {@code expectedSha256} first.
     *
     * @param what names the checkpoint in errors
     * @throws CheckpointException naming it and the mismatch
     */
    public static Checkpoint loadVerified(byte[] stream, String expectedSha256, String what) {
        String actual = CheckpointStore.sha256(CheckpointStore.manifestOf(stream));
        if (expectedSha256 == null || !actual.equalsIgnoreCase(expectedSha256.trim())) {
            throw new CheckpointException(what + ": manifest sha256 is " + actual + " but the published version says "
                    + expectedSha256 + "; refusing to load it");
        }
        return CheckpointStore.fromBytes(stream);
    }

    /** Lower-case hex SHA-256 of {@code dir/manifest.json}, the digest {@code *.versions} records carry. */
    public static String manifestSha256(Path dir) {
        Path manifest = dir.resolve(CheckpointStore.MANIFEST);
        try {
            return CheckpointStore.sha256(Files.readAllBytes(manifest));
        } catch (IOException e) {
            throw new CheckpointException("checkpoint " + dir + ": cannot read " + CheckpointStore.MANIFEST + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * The directory a {@code checkpoint_uri} names: a {@code file:} URI or a plain path.
     *
     * @throws CheckpointException for other schemes ({@code kafka:} chunks are read by {@link #fetchVerified})
     */
    public static Path resolve(String checkpointUri) {
        String lower = checkpointUri.toLowerCase(Locale.ROOT);
        if (lower.startsWith("file:")) {
            return Path.of(URI.create(checkpointUri));
        }
        if (lower.matches("^[a-z][a-z0-9+.-]*:.*") && !lower.matches("^[a-z]:[\\\\/].*")) {
            throw new CheckpointException("checkpoint URI '" + checkpointUri + "' is not supported here: it is not a "
                    + "directory (kafka: chunks of a published version are read by RewardModelLoader.fetchVerified)");
        }
        return Path.of(checkpointUri);
    }
}
