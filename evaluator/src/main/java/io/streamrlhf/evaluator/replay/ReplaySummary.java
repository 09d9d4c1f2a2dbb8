package io.streamrlhf.evaluator.replay;

import java.util.List;
import java.util.Map;

/**
 * What a replay read.
 *
 * @param topic       the topic
 * @param ranges      the resolved range of every partition
 * @param records     records delivered, per partition
 * @param millis      how long the replay took
 */
public record ReplaySummary(String topic, List<PartitionRange> ranges, Map<Integer, Long> records, long millis) {

    /** Copies the collections. */
    public ReplaySummary {
        ranges = List.copyOf(ranges);
        records = Map.copyOf(records);
    }

    /** Records delivered in all. */
    public long total() {
        return records.values().stream().mapToLong(Long::longValue).sum();
    }
}
