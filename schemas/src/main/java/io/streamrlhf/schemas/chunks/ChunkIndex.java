package io.streamrlhf.schemas.chunks;

/**
 * Where one version's chunks lie on the checkpoints topic: all of them, and the count record after them, in one
 * partition between two offsets (inclusive). Records of other versions may lie between them; a reader skips those.
 *
 * @param partition   the partition of the checkpoints topic
 * @param firstOffset the offset of chunk 0
 * @param lastOffset  the offset of the {@code count} record, written after the last chunk
 */
public record ChunkIndex(int partition, long firstOffset, long lastOffset) {

    /** Checks the offsets. */
    public ChunkIndex {
        if (partition < 0 || firstOffset < 0 || lastOffset < firstOffset) {
            throw new IllegalArgumentException("bad chunk index: partition " + partition + ", offsets " + firstOffset
                    + ".." + lastOffset);
        }
    }

    /**
     * The index a version record carries in its three optional fields, or null when any is missing (a record
     * published before chunks were indexed, or a {@code file:} checkpoint).
     */
    public static ChunkIndex ofNullable(Integer partition, Long firstOffset, Long lastOffset) {
        if (partition == null || firstOffset == null || lastOffset == null) {
            return null;
        }
        return new ChunkIndex(partition, firstOffset, lastOffset);
    }
}
