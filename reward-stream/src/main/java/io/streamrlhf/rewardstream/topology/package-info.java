/**
 * The reward stream's Kafka Streams graph, pure and testable with {@code TopologyTestDriver}:
 * {@link io.streamrlhf.rewardstream.topology.ScoringTopology} wires {@code generations} through a decoder
 * ({@link io.streamrlhf.rewardstream.topology.WireDecoder}, unreadable records to the DLQ) and the micro-batching,
 * optionally pipelined scorer ({@link io.streamrlhf.rewardstream.topology.MicroBatchScorer}, its exactly-once buffer
 * {@link io.streamrlhf.rewardstream.topology.PendingBatch}, the scoring of one batch
 * {@link io.streamrlhf.rewardstream.topology.BatchScoring} and the records it writes
 * {@link io.streamrlhf.rewardstream.topology.ScoredGenerations}) to {@code scored}; each task's normalisation
 * statistics through a compacted topic into a global store every task merges from
 * ({@link io.streamrlhf.rewardstream.topology.SharedNormalization}); {@code feedback} through the join with a
 * retained window of generations ({@link io.streamrlhf.rewardstream.topology.FeedbackJoiner}) to
 * {@code preferences}, labels that come before their generations waiting in a changelogged store
 * ({@link io.streamrlhf.rewardstream.topology.PendingLabels}); {@code rm.versions} into a global store that drives reward-model hot swaps; and every
 * unreadable or unscorable record to its {@code <topic>.dlq} ({@link io.streamrlhf.rewardstream.topology.DeadLetters},
 * the decoders and the two exception handlers).
 */
package io.streamrlhf.rewardstream.topology;
