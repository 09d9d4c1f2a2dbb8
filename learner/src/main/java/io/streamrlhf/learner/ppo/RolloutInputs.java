package io.streamrlhf.learner.ppo;

import ai.djl.ndarray.NDArray;

/**
 * The model inputs of some rows: tokens (B, T), attention (B, T) or null without padding, actions (B, F), and each
 * row's sampling temperature (B, 1, 1), or null when every row was sampled at temperature 1.
 */
record RolloutInputs(NDArray tokens, NDArray attention, NDArray actions, NDArray temperatures) {

    /**
     * Log-softmax over the action frame of a forward's logits (B, T, V), each row's logits divided by its sampling
     * temperature first: the log-probs of the distribution the worker drew from, so that π_prox/π_behaviour compares
     * like with like. Without tempered rows the logits are used as they are (the same numbers as before
     * temperatures were read).
     */
    NDArray logSoftmax(NDArray logits) {
        NDArray frame = logits.get(":, :-1, :");  // (B, F, V)
        if (temperatures != null) {
            frame = frame.div(temperatures.toType(frame.getDataType(), false));  // (B, F, V) / (B, 1, 1)
        }
        return frame.logSoftmax(-1);  // (B, F, V)
    }
}
