package io.streamrlhf.rewardstream.scoring.model;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.checkpoint.ModelKind;
import io.streamrlhf.models.reward.RewardModel;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.torchscript.TorchScriptRewardModel;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Turns checkpoints into running reward models, after checking them: the manifest's sha256 against the published
 * one (the same check the policy workers make before a policy swap), then every file against the manifest.
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
     * @throws CheckpointException for other schemes ({@code kafka:} chunks are not read by the reward stream)
     */
    public static Path resolve(String checkpointUri) {
        String lower = checkpointUri.toLowerCase(Locale.ROOT);
        if (lower.startsWith("file:")) {
            return Path.of(URI.create(checkpointUri));
        }
        if (lower.matches("^[a-z][a-z0-9+.-]*:.*") && !lower.matches("^[a-z]:[\\\\/].*")) {
            throw new CheckpointException("checkpoint URI '" + checkpointUri + "' is not supported by the reward stream:"
                    + " publish reward models on shared storage (file: URI)");
        }
        return Path.of(checkpointUri);
    }
}
