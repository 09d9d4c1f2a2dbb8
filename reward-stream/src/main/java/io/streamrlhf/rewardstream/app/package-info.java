/**
 * The running reward stream: {@link io.streamrlhf.rewardstream.app.RewardStreamConfig} (every key with default,
 * validator and doc) and {@link io.streamrlhf.rewardstream.app.ScoringApp}, which builds the ensemble and the
 * topology, runs {@code KafkaStreams} with exactly-once v2 and the dead-letter handlers, reports readiness and
 * stops cleanly from a named shutdown hook.
 */
package io.streamrlhf.rewardstream.app;
