/**
 * The learner module: the PPO-max learner ({@code ppo}), its exactly-once checkpoints
 * ({@code checkpoint}), the Kafka service around them ({@code app}) and its benchmark
 * ({@code bench}); the reward-model trainer lives in {@code rm}. {@link io.streamrlhf.learner.KafkaClients}
 * picks each Kafka client's keys out of a service's settings, for the learner and the reward-model trainer alike.
 */
package io.streamrlhf.learner;
