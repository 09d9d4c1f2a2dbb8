package io.streamrlhf.evaluator.replay;

import java.util.Objects;

/**
 * A range of one topic to replay, the same bounds on every partition.
 *
 * @param topic the full topic name
 * @param from  where to start on each partition (inclusive)
 * @param to    where to stop on each partition (exclusive)
 */
public record TopicRange(String topic, ReplayBound from, ReplayBound to) {

    /** Checks the parts. */
    public TopicRange {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        if (topic.isBlank()) {
            throw new IllegalArgumentException("topic name is empty");
        }
        if (from instanceof ReplayBound.AtOffset f && to instanceof ReplayBound.AtOffset t && t.offset() < f.offset()) {
            throw new IllegalArgumentException("replay of " + topic + ": --to-offset " + t.offset()
                    + " is before --from-offset " + f.offset());
        }
        if (from instanceof ReplayBound.AtTime f && to instanceof ReplayBound.AtTime t && t.time().isBefore(f.time())) {
            throw new IllegalArgumentException("replay of " + topic + ": --to-time " + t.time()
                    + " is before --from-time " + f.time());
        }
    }

    /** The whole topic as it stands when the replay begins. */
    public static TopicRange all(String topic) {
        return new TopicRange(topic, ReplayBound.edge(), ReplayBound.edge());
    }
}
