/**
 * {@code rlhf bench learner}: throughput of one PPO-max update against the PyTorch-eager baseline,
 * the share of the machine's matrix-multiply peak it reaches, and native-memory growth.
 */
package io.streamrlhf.learner.bench;
