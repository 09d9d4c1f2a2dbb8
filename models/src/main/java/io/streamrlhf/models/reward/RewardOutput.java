package io.streamrlhf.models.reward;

import ai.djl.ndarray.NDArray;

/*
 * CONTRACT: what a reward model's forward returns (see RewardModel).
 */

/**
 * Result of a reward model's forward pass over a (B, T) batch.
 *
 * @param scores (B): one scalar reward per sequence, read at its final real token
 * @param pooled (B, D): the representation the scalar head reads (used for contrastive losses)
 */
public record RewardOutput(NDArray scores, NDArray pooled) {
}
