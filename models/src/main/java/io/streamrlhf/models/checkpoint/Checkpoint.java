package io.streamrlhf.models.checkpoint;

import io.streamrlhf.models.transformer.TransformerConfig;
import java.util.Map;
import java.util.Objects;

/*
 * CONTRACT: the in-memory form of one checkpoint, for policies and reward models alike. The learner,
 * workers, reward stream and the TorchScript adapter exchange this. CheckpointStore writes and reads it.
 */

/**
 * One model checkpoint, held as plain bytes so it can outlive any native memory.
 *
 * @param kind           policy or reward model
 * @param architecture   "transformer" (ours) or "torchscript" (an adapter); decides how to rebuild
 * @param config         model shape
 * @param weights        named parameters as written by {@link ModelWeights#encode}
 * @param optimizerState optimiser state in the trainer's own format, or {@code null}
 * @param metadata       free-form string pairs (version, parent, step, seed, source file...)
 */
public record Checkpoint(ModelKind kind, String architecture, TransformerConfig config, byte[] weights,
                         byte[] optimizerState, Map<String, String> metadata) {

    /** Checks the required parts and copies the metadata. */
    public Checkpoint {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }

    /**
     * What names these weights wherever they are loaded: {@code "sha256:"} and the hex SHA-256 of {@link #weights()}.
     * The reward stream stamps the reference log-probs it computes with it; the learner uses them only when its own
     * reference has the same id.
     */
    public String weightsId() {
        return "sha256:" + CheckpointStore.sha256(weights);
    }

    /** True when optimiser state is present. */
    public boolean hasOptimizerState() {
        return optimizerState != null;
    }
}
