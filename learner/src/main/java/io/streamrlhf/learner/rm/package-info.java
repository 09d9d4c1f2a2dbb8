/**
 * The reward-model trainer (Secrets of RLHF Part II): ensembles of reward models that differ in
 * seed and data order, Bradley–Terry training, ensemble preference strength (μ̂, σ̂ per pair), the
 * paper's remedies for noisy preferences (label flipping, label smoothing, adaptive margin), the
 * SimCSE-style contrastive term, the MetaRM meta step on the policy's current distribution,
 * per-version evaluation (pairwise, gold and Best-of-N accuracy), the method comparison benchmark,
 * and the online service that trains from {@code preferences} and publishes {@code rm.versions}.
 *
 * <p>Training uses the JVM's one DJL gradient collector: never train two models concurrently in
 * one process (members of an ensemble are trained one after another).
 */
package io.streamrlhf.learner.rm;
