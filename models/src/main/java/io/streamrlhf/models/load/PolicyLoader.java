package io.streamrlhf.models.load;

import ai.djl.Device;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.checkpoint.ModelKind;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfModelConfig;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.hf.HfSampler;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.sampling.Sampler;
import io.streamrlhf.models.sampling.TokenSampler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Policies by where they come from. A checkpoint names its architecture: {@value TransformerPolicy#ARCHITECTURE}
 * (the project's own) or {@value HfPolicy#ARCHITECTURE} (a Hugging Face model with a value head). A starting point
 * on disk is either a checkpoint directory or a Hugging Face model folder.
 */
public final class PolicyLoader {

    private PolicyLoader() {
    }

    /** The trainable policy a checkpoint holds, on {@link ModelRuntime#device()}. */
    public static PolicyModel fromCheckpoint(Checkpoint checkpoint) {
        return fromCheckpoint(checkpoint, ModelRuntime.device());
    }

    /**
     * The trainable policy a checkpoint holds, on {@code device}.
     *
     * @throws CheckpointException if it is not a policy or its architecture is not one of the two above
     */
    public static PolicyModel fromCheckpoint(Checkpoint checkpoint, Device device) {
        if (checkpoint.kind() != ModelKind.POLICY) {
            throw new CheckpointException("checkpoint holds a " + checkpoint.kind() + ", not a POLICY");
        }
        return switch (checkpoint.architecture()) {
            case TransformerPolicy.ARCHITECTURE -> TransformerPolicy.fromCheckpoint(checkpoint, device);
            case HfPolicy.ARCHITECTURE -> HfPolicy.fromCheckpoint(checkpoint, device);
            default -> throw new CheckpointException("policy checkpoint of architecture '" + checkpoint.architecture()
                    + "' cannot be trained or served here (expected '" + TransformerPolicy.ARCHITECTURE + "' or '"
                    + HfPolicy.ARCHITECTURE + "')");
        };
    }

    /** Whether {@code dir} is a Hugging Face model folder (it has a {@code config.json} and no checkpoint manifest). */
    public static boolean isHfFolder(Path dir) {
        return Files.isRegularFile(dir.resolve(HfModelConfig.FILE))
                && !Files.isRegularFile(dir.resolve(CheckpointStore.MANIFEST));
    }

    /**
     * The starting checkpoint at {@code dir}: a checkpoint directory as saved, or a Hugging Face causal-LM folder
     * loaded as a policy with a zero value head (its metadata: {@code version} 0, {@code source} the folder).
     *
     * @param context for a folder, the longest sequence that will be run (0: its config's maximum)
     * @throws CheckpointException or {@link io.streamrlhf.models.hf.HfFormatException} naming what is refused
     */
    public static Checkpoint initialCheckpoint(Path dir, int context) {
        if (!isHfFolder(dir)) {
            return CheckpointStore.load(dir);
        }
        try (HfPolicy policy = HfPolicy.load(dir, context)) {
            return policy.toCheckpoint(Map.of("version", "0", "source", dir.toAbsolutePath().toString()), null);
        }
    }

    /** The sampler that suits {@code policy}: on the device for a Hugging Face model, else {@link Sampler}. */
    public static TokenSampler sampler(PolicyModel policy) {
        return policy instanceof HfPolicy hf ? new HfSampler(hf) : new Sampler(policy);
    }
}
