package io.streamrlhf.models.policy;

import ai.djl.ndarray.NDArray;

/*
 * CONTRACT: what a policy's training forward returns (see PolicyModel).
 */

/**
 * Result of a policy's forward pass over a (B, T) token batch.
 *
 * @param logits (B, T, V): logits at position t score the token at t + 1
 * @param values (B, T): the value head's estimate at each position
 */
public record PolicyOutput(NDArray logits, NDArray values) {
}
