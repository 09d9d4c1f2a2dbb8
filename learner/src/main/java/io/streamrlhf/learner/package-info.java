/**
 * The learner module: the PPO-max learner ({@code ppo}), its exactly-once checkpoints
 * ({@code checkpoint}), the Kafka service around them ({@code app}) and its benchmark
 * ({@code bench}); the reward-model trainer lives in {@code rm}.
 */
package io.streamrlhf.learner;
