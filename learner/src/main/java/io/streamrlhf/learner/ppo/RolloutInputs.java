package io.streamrlhf.learner.ppo;

import ai.djl.ndarray.NDArray;

/**
 * The model inputs of some rows: tokens (B, T), attention (B, T) or null without padding, actions (B, F), each
 * row's sampling temperature (B, 1, 1), or null when every row was sampled at temperature 1, and where the action
 * frame starts: frame entry j is position {@code frameStart + j}, whose output scores the token at
 * {@code frameStart + j + 1}.
 */
record RolloutInputs(NDArray tokens, NDArray attention, NDArray actions, NDArray temperatures, int frameStart) {

    /**
     * Log-softmax over the action frame of a forward's logits (B, T, V), each row's logits divided by its sampling
     * temperature first: the log-probs of the distribution the worker drew from, so that π_prox/π_behaviour compares
     * like with like. Without tempered rows the logits are used as they are (the same numbers as before
     * temperatures were read).
     */
    NDArray logSoftmax(NDArray logits) {
        NDArray frame = frame(logits);  // (B, F, V)
        if (temperatures != null) {
            frame = frame.div(temperatures.toType(frame.getDataType(), false));  // (B, F, V) / (B, 1, 1)
        }
        return frame.logSoftmax(-1);  // (B, F, V)
    }

    /**
     * The action frame of a forward's output {@code x (B, T, ...)}: positions {@code [frameStart, T - 1)}, as one
     * slice of the position axis. (DJL's string index, {@code ":, :-1, :"}, slices every axis it names, and each
     * slice records a backward that zero-fills and copies the whole (B, T, V) gradient: three per update.)
     */
    NDArray frame(NDArray x) {
        long t = x.getShape().get(1);
        return x.split(new long[] {frameStart, t - 1}, 1).get(1);  // (B, F, ...)
    }
}
