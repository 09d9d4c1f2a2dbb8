/**
 * PPO-max (Secrets of RLHF Part I): {@link io.streamrlhf.learner.ppo.PpoUpdate}, the one class
 * that turns a batch of scored samples into a policy update, with its settings
 * ({@link io.streamrlhf.learner.ppo.PpoConfig}), off-policy correction, GAE and group (GRPO/RLOO)
 * advantages, a checkpointable AdamW, reward scaling and PPO-ptx data. Knows no Kafka.
 */
package io.streamrlhf.learner.ppo;
