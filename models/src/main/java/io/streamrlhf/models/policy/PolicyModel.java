package io.streamrlhf.models.policy;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.util.Map;

/*
 * CONTRACT: the learner, the policy workers, the sampler, checkpoints and the TorchScript adapter all code
 * against this interface. Keep it stable.
 */

/**
 * A trainable causal language model with a value head.
 *
 * <table>
 *   <caption>Dimension letters</caption>
 *   <tr><td>B</td><td>batch</td></tr>
 *   <tr><td>T</td><td>sequence length of this call</td></tr>
 *   <tr><td>V</td><td>vocabulary size</td></tr>
 * </table>
 *
 * <p>Padding: a row may be left-padded (prompts of different lengths in one batch) and/or
 * right-padded (rows that ended early). {@code attentionMask} is 1 at real tokens, 0 at padding;
 * positions count real tokens only, so a left-padded row gives exactly the outputs of the same row
 * without its padding. Outputs at padded positions are meaningless and must be masked by callers.
 *
 * <p>Native memory: the returned arrays belong to the manager of {@code tokens}; run each step in
 * its own sub-manager of {@link #manager()} and close it.
 */
public interface PolicyModel extends AutoCloseable {

    /** Architecture name stored in checkpoints ("transformer" for ours, "torchscript" for adapters). */
    String architecture();

    /** Model shape (vocabulary, context, widths). */
    TransformerConfig config();

    /** The DJL block; {@code block().getParameters()} are the trainable parameters. */
    Block block();

    /** Manager owning the parameters; per-step sub-managers hang off it. */
    NDManager manager();

    /** Device the parameters live on. */
    default Device device() {
        return manager().getDevice();
    }

    /**
     * Full forward pass.
     *
     * @param tokens        (B, T) int token ids
     * @param attentionMask (B, T) 1 for real tokens, 0 for padding; {@code null} means all real
     * @param training      true inside a {@code GradientCollector} (enables gradients through it)
     * @return logits (B, T, V) and values (B, T), in the manager of {@code tokens}
     */
    PolicyOutput forward(NDArray tokens, NDArray attentionMask, boolean training);

    /**
     * {@link #forward} with logits over positions {@code [from, T - 1)} only: what a PPO update reads of a batch
     * whose responses start after position {@code from}. A model may leave the output projection out everywhere
     * else, as the Hugging Face policy does: on a small model that vocabulary-wide product, forward and backward, is
     * most of the update's work.
     *
     * @param from the first position whose logits are wanted, in {@code [0, T - 1]}
     * @return logits (B, T - 1 - from, V), entry j scoring the token at {@code from + j + 1}, and values (B, T)
     */
    default PolicyOutput forwardFrame(NDArray tokens, NDArray attentionMask, boolean training, int from) {
        PolicyOutput out = forward(tokens, attentionMask, training);
        return new PolicyOutput(frame(out.logits(), from), out.values());
    }

    /**
     * Positions {@code [from, T - 1)} of {@code x (B, T, ...)} as one slice of the position axis. (DJL's string
     * index, {@code ":, :-1, :"}, slices every axis it names, and each slice records a backward that zero-fills and
     * copies the whole gradient.)
     *
     * @throws IllegalArgumentException when {@code from} is outside {@code [0, T - 1]}
     */
    static NDArray frame(NDArray x, int from) {
        long t = x.getShape().get(1);
        if (from < 0 || from > t - 1) {
            throw new IllegalArgumentException("frame start " + from + " outside [0, " + (t - 1) + "] for " + t
                    + " positions");
        }
        return x.split(new long[] {from, t - 1}, 1).get(1);  // (B, T - 1 - from, ...)
    }

    /**
     * A frozen copy with the same weights and its own manager (the PPO reference policy). Its
     * parameters do not require gradients and are not affected by later training of this model.
     */
    PolicyModel referenceCopy();

    /**
     * These weights as a checkpoint (optimiser state may be {@code null}), in the form {@link #loadWeights} and the
     * architecture's loader read.
     *
     * @throws UnsupportedOperationException for a policy that is not written as checkpoints (TorchScript)
     */
    default Checkpoint toCheckpoint(Map<String, String> metadata, byte[] optimizerState) {
        throw new UnsupportedOperationException(architecture() + " policies are not written as checkpoints");
    }

    /**
     * Hot swap: copies a checkpoint's weights into this running policy in place; refused, with nothing changed, if
     * the checkpoint is not a policy of the same architecture and shape. Call it between batches.
     *
     * @throws UnsupportedOperationException for a policy that cannot be swapped (TorchScript)
     */
    default void loadWeights(Checkpoint checkpoint) {
        throw new UnsupportedOperationException(architecture() + " policies cannot be swapped in place");
    }

    /** Sets whether parameters take gradients ({@code false} to train; see DJL's freezeParameters). */
    void freeze(boolean frozen);

    /** Releases the parameters' native memory. */
    @Override
    void close();
}
