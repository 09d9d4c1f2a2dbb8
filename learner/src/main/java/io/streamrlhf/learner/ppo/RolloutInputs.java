package io.streamrlhf.learner.ppo;

import ai.djl.ndarray.NDArray;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.policy.PolicyOutput;

/**
 * The model inputs of some rows: tokens (B, T), attention (B, T) or null without padding, actions (B, F), each
 * row's sampling temperature (B, 1, 1), or null when every row was sampled at temperature 1, and where the action
 * frame starts: frame entry j is position {@code frameStart + j}, whose output scores the token at
 * {@code frameStart + j + 1}.
 */
record RolloutInputs(NDArray tokens, NDArray attention, NDArray actions, NDArray temperatures, int frameStart) {

    /**
     * The model's forward over these rows with logits over the action frame only (B, F, V) and values (B, T): the
     * output projection runs on the frame's positions alone where the model allows it.
     */
    PolicyOutput forward(PolicyModel model, boolean training) {
        return model.forwardFrame(tokens, attention, training, frameStart);
    }

    /**
     * Log-softmax of the action frame's logits (B, F, V), each row's logits divided by its sampling temperature
     * first: the log-probs of the distribution the worker drew from, so that π_prox/π_behaviour compares like with
     * like. Without tempered rows the logits are used as they are.
     */
    NDArray logSoftmax(NDArray frameLogits) {
        NDArray frame = frameLogits;  // (B, F, V)
        if (temperatures != null) {
            frame = frame.div(temperatures.toType(frame.getDataType(), false));  // (B, F, V) / (B, 1, 1)
        }
        return frame.logSoftmax(-1);  // (B, F, V)
    }

    /** The action frame of a forward's output {@code x (B, T, ...)}: positions {@code [frameStart, T - 1)}. */
    NDArray frame(NDArray x) {
        return PolicyModel.frame(x, frameStart);  // (B, F, ...)
    }
}
