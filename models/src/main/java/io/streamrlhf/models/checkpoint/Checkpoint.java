package io.streamrlhf.models.checkpoint;

import io.streamrlhf.models.transformer.TransformerConfig;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

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
 * @param modelFiles     files that travel with the weights, by name: a Hugging Face policy's {@code config.json},
 *                       {@code tokenizer.json}, {@code tokenizer_config.json} and {@code generation_config.json}, so
 *                       that a process given only the checkpoint can rebuild, tokenise and export it; empty for ours
 */
public record Checkpoint(ModelKind kind, String architecture, TransformerConfig config, byte[] weights,
                         byte[] optimizerState, Map<String, String> metadata, Map<String, byte[]> modelFiles) {

    /** Checks the required parts and copies the metadata and the file table. */
    public Checkpoint {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
        modelFiles = modelFiles == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(modelFiles));
        for (String name : modelFiles.keySet()) {
            if (!name.matches("[A-Za-z0-9._-]+")) {
                throw new IllegalArgumentException("model file name '" + name + "' is not a plain file name");
            }
        }
    }

    /** A checkpoint with no model files (the project's own architectures). */
    public Checkpoint(ModelKind kind, String architecture, TransformerConfig config, byte[] weights,
                      byte[] optimizerState, Map<String, String> metadata) {
        this(kind, architecture, config, weights, optimizerState, metadata, Map.of());
    }

    /** The same checkpoint with other metadata. */
    public Checkpoint withMetadata(Map<String, String> newMetadata) {
        return new Checkpoint(kind, architecture, config, weights, optimizerState, newMetadata, modelFiles);
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
