/**
 * The reward stream: scores {@code generations} into {@code scored} with reward-model ensembles (micro-batched,
 * exactly-once v2), normalises rewards, joins {@code feedback} with generations into {@code preferences}, sends
 * unreadable or unscorable records to dead-letter topics and hot-swaps reward models from {@code rm.versions}.
 *
 * <ul>
 *   <li>{@link io.streamrlhf.rewardstream.scoring}: the scoring core, free of Kafka Streams, which the evaluator
 *       reuses (sources, specs, ensembles, normalisation);</li>
 *   <li>{@link io.streamrlhf.rewardstream.topology}: the pure {@code Topology} and its processors;</li>
 *   <li>{@link io.streamrlhf.rewardstream.app}: configuration and the running {@code KafkaStreams} application.</li>
 * </ul>
 */
package io.streamrlhf.rewardstream;
