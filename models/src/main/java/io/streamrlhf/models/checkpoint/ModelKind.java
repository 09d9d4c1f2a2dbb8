package io.streamrlhf.models.checkpoint;

/*
 * CONTRACT: stored in every checkpoint's config; other packages read it to know what to build.
 */

/** What a checkpoint holds. */
public enum ModelKind {
    /** A policy with a value head ({@link io.streamrlhf.models.policy.PolicyModel}). */
    POLICY,
    /** A reward model ({@link io.streamrlhf.models.reward.RewardModel}). */
    REWARD_MODEL
}
