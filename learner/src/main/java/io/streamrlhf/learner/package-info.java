/**
 * The PPO-max learner (continuous updates on {@code scored}, off-policy correction, exactly-once
 * checkpoints, {@code policy.versions} publication) and the reward-model trainer (Secrets of RLHF II).
 * Built by the learner and reward-model issues; nothing here yet.
 */
package io.streamrlhf.learner;
