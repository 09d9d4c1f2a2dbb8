package io.streamrlhf.models.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * Log-probabilities of given tokens under a policy's logits, the quantity PPO's ratio is made of.
 *
 * <p>Shift convention: logits at position t score the token at t + 1, so for a sequence of T
 * tokens pass {@code logits[:, :-1]} and {@code tokens[:, 1:]}; {@link #ofSequence} does that.
 */
public final class LogProbs {

    private LogProbs() {
    }

    /**
     * log softmax(logits) gathered at {@code targets}.
     *
     * @param logits  (B, T, V)
     * @param targets (B, T) int ids
     * @return (B, T)
     */
    public static NDArray gather(NDArray logits, NDArray targets) {
        NDArray logp = logits.logSoftmax(-1);  // (B, T, V)
        NDArray index = targets.toType(DataType.INT64, false).expandDims(-1);  // (B, T, 1)
        return logp.gather(index, -1).squeeze(-1);  // (B, T)
    }

    /**
     * Log-probability of each token given the ones before it.
     *
     * @param logits (B, T, V) from a forward of {@code tokens}
     * @param tokens (B, T)
     * @return (B, T - 1): entry t is log p(tokens[t + 1] | tokens[..t])
     */
    public static NDArray ofSequence(NDArray logits, NDArray tokens) {
        long t = tokens.getShape().get(1);
        return gather(logits.get(":, :{}, :", t - 1), tokens.get(":, 1:"));  // (B, T-1)
    }
}
