/**
 * The scoring core, free of Kafka Streams so the evaluator can reuse it: {@link
 * io.streamrlhf.rewardstream.scoring.RewardSource} (a named, versioned, batched scorer), the
 * {@link io.streamrlhf.rewardstream.scoring.RewardSpec} strings that describe sources ({@code rule:length},
 * {@code rm:DIR}, {@code torchscript:FILE}, {@code hf:DIR}, {@code judge:URL}), {@link io.streamrlhf.rewardstream.scoring.RewardSources}
 * that builds them, the {@link io.streamrlhf.rewardstream.scoring.RewardEnsemble} with its
 * {@link io.streamrlhf.rewardstream.scoring.Aggregation}s, and Welford normalisation
 * ({@link io.streamrlhf.rewardstream.scoring.RunningStats}, {@link io.streamrlhf.rewardstream.scoring.NormalizationState}).
 */
package io.streamrlhf.rewardstream.scoring;
