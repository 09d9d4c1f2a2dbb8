/**
 * Reward models: the {@link io.streamrlhf.models.reward.RewardModel} contract, our transformer
 * reward model with a scalar head on the final real token, and the residual dropout a reward model offers
 * the trainer's contrastive views ({@link io.streamrlhf.models.reward.ResidualDropout}).
 */
package io.streamrlhf.models.reward;
