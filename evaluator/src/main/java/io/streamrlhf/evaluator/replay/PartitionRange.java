package io.streamrlhf.evaluator.replay;

/**
 * A range resolved on one partition: offsets {@code [start, end)}. Under {@code read_committed} the offsets of
 * aborted records and transaction markers inside it are skipped, so it may hold fewer records than
 * {@code end - start}.
 *
 * @param partition the partition
 * @param start     first offset to read
 * @param end       first offset not to read
 */
public record PartitionRange(int partition, long start, long end) {

    /** Whether there is nothing to read. */
    public boolean isEmpty() {
        return end <= start;
    }
}
