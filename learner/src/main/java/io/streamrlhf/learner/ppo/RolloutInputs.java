package io.streamrlhf.learner.ppo;

import ai.djl.ndarray.NDArray;

/** The model inputs of some rows: tokens (B, T), attention (B, T) or null without padding, actions (B, F). */
record RolloutInputs(NDArray tokens, NDArray attention, NDArray actions) {
}
