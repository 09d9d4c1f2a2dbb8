/**
 * Policy hot swap: {@link io.streamrlhf.producer.swap.PolicyFollower} tails {@code policy.versions} for one policy
 * name, fetches each newer checkpoint ({@code file:} URI or the {@code checkpoints} topic's chunks) through
 * {@link io.streamrlhf.producer.swap.CheckpointFetcher}, verifies its sha256, and offers it to the workers, whose
 * {@link io.streamrlhf.producer.swap.PolicySwapper} copies the weights in place between batches. Versions only move
 * forward; a checkpoint that fails verification is refused, logged and counted, and the current version keeps
 * serving. {@link io.streamrlhf.producer.swap.PublishedVersions} reads the versions of one policy still on the topic,
 * for tools that want a given version rather than the newest.
 */
package io.streamrlhf.producer.swap;
