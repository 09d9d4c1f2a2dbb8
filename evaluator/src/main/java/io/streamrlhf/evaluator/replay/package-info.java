/**
 * Replay: reading a range of any topic, by offsets or times, on every partition, with {@code read_committed} and
 * {@code assign} + {@code seek} only, so no consumer group is joined, created or moved
 * ({@link io.streamrlhf.evaluator.replay.TopicReplayer}); and the evaluation topic that carries RMB items through
 * Kafka ({@link io.streamrlhf.evaluator.replay.RmbTopic}).
 */
package io.streamrlhf.evaluator.replay;
