/**
 * Reward models: the {@link io.streamrlhf.models.reward.RewardModel} contract and our transformer
 * reward model with a scalar head on the final real token.
 */
package io.streamrlhf.models.reward;
