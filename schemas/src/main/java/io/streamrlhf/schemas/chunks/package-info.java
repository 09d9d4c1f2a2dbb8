/**
 * Checkpoints on the {@code checkpoints} topic, so that no component needs a shared filesystem: a checkpoint's
 * byte-stream form travels in chunks keyed {@code <prefix>/<version>/<chunk>}, followed by a
 * {@code <prefix>/<version>/count} record. {@link io.streamrlhf.schemas.chunks.CheckpointChunkWriter} writes all
 * versions of one prefix to one partition and returns a {@link io.streamrlhf.schemas.chunks.ChunkIndex} (partition,
 * first and last offset) that the version record carries, and tombstones versions beyond
 * {@code topic.checkpoints.kept}; {@link io.streamrlhf.schemas.chunks.CheckpointChunkReader} seeks straight to an
 * indexed version and scans the topic only for records published without an index.
 * {@link io.streamrlhf.schemas.chunks.ChunkUri} is the {@code kafka:} URI that names a version's chunks;
 * {@link io.streamrlhf.schemas.chunks.PublishedPolicyCheckpoint} finds and checks the published policy version such a
 * URI names as a component's starting point (the learner's start, the scorer's KL reference).
 */
package io.streamrlhf.schemas.chunks;
