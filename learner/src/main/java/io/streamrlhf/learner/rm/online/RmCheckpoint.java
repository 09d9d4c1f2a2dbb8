package io.streamrlhf.learner.rm.online;

import io.streamrlhf.models.checkpoint.Checkpoint;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the online trainer needs to resume: the ensemble's weights and the {@code preferences}
 * offsets they were trained up to.
 *
 * @param version       the version every member is published as
 * @param parentVersion the version trained from (0 for the first)
 * @param members       one reward-model checkpoint per member, in order
 * @param offsets       per {@code topic-partition}, the next offset not yet trained on
 * @param pairsSeen     training pairs consumed so far
 * @param steps         optimiser steps of member 0 so far
 * @param metrics       the round's metrics (published with the versions)
 */
public record RmCheckpoint(long version, long parentVersion, List<Checkpoint> members, Map<String, Long> offsets,
                           long pairsSeen, long steps, Map<String, Double> metrics) {

    /** Copies the collections. */
    public RmCheckpoint {
        members = List.copyOf(members);
        offsets = Map.copyOf(offsets);
        metrics = Map.copyOf(Objects.requireNonNull(metrics, "metrics"));
        if (members.isEmpty()) {
            throw new IllegalArgumentException("RmCheckpoint: no members");
        }
    }
}
