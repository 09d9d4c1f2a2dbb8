package io.streamrlhf.schemas.topics;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What {@link TopicCreator#create} did.
 *
 * @param created            topics it created, in request order
 * @param existing           topics that already existed and were left alone, in request order
 * @param partitionMismatches existing topics whose partition count differs from the spec:
 *                           name → (expected, actual). Never changed automatically: adding partitions moves keys.
 */
public record TopicCreationReport(List<String> created, List<String> existing,
                                  Map<String, PartitionMismatch> partitionMismatches) {

    /** An existing topic's partition count that differs from its spec. */
    public record PartitionMismatch(int expected, int actual) {
    }

    public TopicCreationReport {
        created = List.copyOf(created);
        existing = List.copyOf(existing);
        partitionMismatches = Map.copyOf(partitionMismatches);
    }

    /** True when some existing topic has a partition count other than its spec's. */
    public boolean hasMismatches() {
        return !partitionMismatches.isEmpty();
    }

    /** One line for people and logs, e.g. "created 16 topics, 0 already existed". */
    public String summary() {
        String line = "created " + created.size() + " topic(s), " + existing.size() + " already existed";
        if (hasMismatches()) {
            line += "; partition count differs for " + partitionMismatches.entrySet().stream()
                    .sorted(Map.Entry.comparingByKey())
                    .map(e -> e.getKey() + " (spec " + e.getValue().expected() + ", actual " + e.getValue().actual() + ")")
                    .collect(Collectors.joining(", "));
        }
        return line;
    }
}
