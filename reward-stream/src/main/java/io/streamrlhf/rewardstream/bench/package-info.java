/**
 * {@code rlhf bench scoring}: the reward stream's throughput against the same ensemble scoring the same records in
 * process ({@link io.streamrlhf.rewardstream.bench.ScoringBench}).
 */
package io.streamrlhf.rewardstream.bench;
