/**
 * The reward stream's Kafka Streams graph, pure and testable with {@code TopologyTestDriver}:
 * {@link io.streamrlhf.rewardstream.topology.ScoringTopology} wires {@code generations} through the micro-batching
 * scorer ({@link io.streamrlhf.rewardstream.topology.MicroBatchScorer}) to {@code scored}, {@code feedback} through
 * the join with a retained window of generations ({@link io.streamrlhf.rewardstream.topology.FeedbackJoiner}) to
 * {@code preferences}, {@code rm.versions} into a global store that drives reward-model hot swaps, and every
 * unreadable or unscorable record to its {@code <topic>.dlq} ({@link io.streamrlhf.rewardstream.topology.DeadLetters}
 * and the two exception handlers).
 */
package io.streamrlhf.rewardstream.topology;
