package io.streamrlhf.models.reward;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.util.List;

/*
 * CONTRACT: the reward stream, the reward-model trainer, the evaluator and the TorchScript adapter code
 * against this interface. Keep it stable.
 */

/**
 * A reward model: a sequence of tokens in, one scalar out, plus the pooled representation that
 * scalar was read from.
 *
 * <table>
 *   <caption>Dimension letters</caption>
 *   <tr><td>B</td><td>batch</td></tr>
 *   <tr><td>T</td><td>sequence length</td></tr>
 *   <tr><td>D</td><td>width of the pooled representation</td></tr>
 * </table>
 */
public interface RewardModel extends AutoCloseable {

    /** Architecture name stored in checkpoints ("transformer" for ours, "torchscript" for adapters). */
    String architecture();

    /** Model shape; {@code contextLength()} bounds the scored sequence. */
    TransformerConfig config();

    /** The DJL block; {@code block().getParameters()} are the trainable parameters. */
    Block block();

    /** Manager owning the parameters. */
    NDManager manager();

    /**
     * Forward pass for training and batched scoring.
     *
     * @param tokens        (B, T) int ids, right-padded
     * @param attentionMask (B, T) 1 for real tokens, 0 for padding; {@code null} means all real
     * @param training      true inside a {@code GradientCollector}
     * @return scores (B) and pooled (B, D), in the manager of {@code tokens}
     */
    RewardOutput forward(NDArray tokens, NDArray attentionMask, boolean training);

    /**
     * Scores (conversation, response) pairs: each pair is concatenated, cut from the left to the
     * context length (the response's end is what the head reads), batched with right padding,
     * and scored in one inference pass. Native memory is released before returning.
     */
    default RewardScores score(List<int[]> conversations, List<int[]> responses) {
        return RewardBatching.score(this, conversations, responses);
    }

    /** Sets whether parameters take gradients ({@code false} to train). */
    void freeze(boolean frozen);

    /** Releases the parameters' native memory. */
    @Override
    void close();
}
