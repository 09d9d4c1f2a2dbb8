/**
 * What offline training, online training and evaluation of reward models share (Secrets of RLHF
 * Part II): the pairs and their encoding ({@link io.streamrlhf.learner.rm.EncodedPair},
 * {@link io.streamrlhf.learner.rm.PairEncoder}; {@link io.streamrlhf.learner.rm.HfPairEncoder} for a Hugging Face
 * reward model's own tokenizer and chat template), the models an ensemble trains
 * ({@link io.streamrlhf.learner.rm.RewardModelFactory}), the training methods and their settings
 * ({@link io.streamrlhf.learner.rm.RmMethod}, {@link io.streamrlhf.learner.rm.RmTrainingConfig}), the
 * losses (Bradley–Terry, label smoothing, adaptive margin, the SimCSE-style contrastive term), the
 * trainer of one model with the MetaRM meta step on the policy's current distribution, ensembles that
 * differ in seed and data order, the preference strength they measure (μ̂, σ̂ per pair), and the
 * relabelling that flips the labels the ensemble contradicts.
 *
 * <p>Offline training is in {@code rm.offline}, the online service in {@code rm.online}, evaluation
 * in {@code rm.eval}.
 *
 * <p>Training uses the JVM's one DJL gradient collector: never train two models concurrently in
 * one process (members of an ensemble are trained one after another).
 */
package io.streamrlhf.learner.rm;
