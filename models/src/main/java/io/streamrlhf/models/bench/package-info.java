/**
 * The models benchmark behind {@code rlhf bench models}: sampling tokens/s, PPO-update
 * sequences/s and the sampler-vs-training log-prob gap, on the same work as the PyTorch baseline.
 */
package io.streamrlhf.models.bench;
