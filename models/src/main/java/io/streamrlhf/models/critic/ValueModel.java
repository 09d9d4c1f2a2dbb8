package io.streamrlhf.models.critic;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.util.Map;

/**
 * A trainable critic of its own: a value for every position of a token sequence, from a model apart from the
 * policy (Secrets of RLHF I's and MOSS-RLHF's critic, initialised from the reward model). It reads the policy's
 * tokens, so it must share the policy's tokenization.
 *
 * <table>
 *   <caption>Dimension letters</caption>
 *   <tr><td>B</td><td>batch</td></tr>
 *   <tr><td>T</td><td>sequence length of this call</td></tr>
 * </table>
 *
 * <p>Padding and native memory as {@link io.streamrlhf.models.policy.PolicyModel}: rows may be right-padded with
 * {@code attentionMask} 0 there (outputs at padding are meaningless), and the returned array belongs to the
 * manager of {@code tokens}.
 */
public interface ValueModel extends AutoCloseable {

    /** Architecture name stored in its checkpoints ("transformer" for ours, "hf" for a Hugging Face model). */
    String architecture();

    /** Model shape; {@code vocabSize()} must be the policy's and {@code contextLength()} at least the policy's. */
    TransformerConfig config();

    /** The DJL block; {@code block().getParameters()} are the trainable parameters. */
    Block block();

    /** Manager owning the parameters (and an optimiser's moments for them). */
    NDManager manager();

    /**
     * Values at every position.
     *
     * @param tokens        (B, T) int token ids
     * @param attentionMask (B, T) 1 for real tokens, 0 for padding; {@code null} means all real
     * @param training      true inside a {@code GradientCollector}
     * @return values (B, T), in the manager of {@code tokens}
     */
    NDArray values(NDArray tokens, NDArray attentionMask, boolean training);

    /**
     * These weights as a checkpoint of kind {@code REWARD_MODEL} (a critic is a reward model's network read at
     * every position), with {@code optimizerState} (may be {@code null}); {@link
     * io.streamrlhf.models.load.CriticLoader#fromCheckpoint} reads it back.
     */
    Checkpoint toCheckpoint(Map<String, String> metadata, byte[] optimizerState);

    /** Sets whether parameters take gradients ({@code false} to train). */
    void freeze(boolean frozen);

    /** Releases the parameters' native memory. */
    @Override
    void close();
}
