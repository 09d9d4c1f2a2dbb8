package io.streamrlhf.learner.app;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;

/**
 * Where the learner first reads a partition that no checkpoint knows ({@code learner.start}): the earliest or the
 * latest record, an offset, or the first record stamped at or after a time.
 *
 * @param kind   earliest, latest, offset or time
 * @param offset the offset, for {@code offset}
 * @param time   the time, for {@code time}
 */
public record StartPosition(Kind kind, long offset, Instant time) {

    /** The kinds of position. */
    public enum Kind {
        /** The partition's first record still held. */
        EARLIEST,
        /** After the partition's last record: only what arrives from now on. */
        LATEST,
        /** A given offset (the earliest held, when the offset is older). */
        OFFSET,
        /** The first record stamped at or after a time (the end, when there is none). */
        TIME
    }

    /** Checks the parts. */
    public StartPosition {
        Objects.requireNonNull(kind, "kind");
    }

    /**
     * Parses {@code earliest}, {@code latest}, an offset or an ISO-8601 instant.
     *
     * @throws IllegalArgumentException naming what was given and what is accepted
     */
    public static StartPosition parse(String text) {
        String t = text.trim();
        switch (t.toLowerCase(java.util.Locale.ROOT)) {
            case "earliest" -> {
                return new StartPosition(Kind.EARLIEST, -1, null);
            }
            case "latest" -> {
                return new StartPosition(Kind.LATEST, -1, null);
            }
            default -> {
            }
        }
        try {
            long offset = Long.parseLong(t);
            if (offset < 0) {
                throw new IllegalArgumentException("start offset must be >= 0, got " + offset);
            }
            return new StartPosition(Kind.OFFSET, offset, null);
        } catch (NumberFormatException notAnOffset) {
            try {
                return new StartPosition(Kind.TIME, -1, Instant.parse(t));
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("start '" + text + "' is not earliest, latest, an offset or an "
                        + "ISO-8601 time such as 2026-12-01T00:00:00Z");
            }
        }
    }

    /** Seeks {@code tp} of {@code consumer} here and returns the offset it will read next. */
    public long seek(Consumer<?, ?> consumer, TopicPartition tp) {
        switch (kind) {
            case EARLIEST -> consumer.seekToBeginning(List.of(tp));
            case LATEST -> consumer.seekToEnd(List.of(tp));
            case OFFSET -> {
                long first = consumer.beginningOffsets(List.of(tp)).get(tp);
                consumer.seek(tp, Math.max(first, offset));
            }
            case TIME -> {
                Map<TopicPartition, OffsetAndTimestamp> at = consumer.offsetsForTimes(Map.of(tp, time.toEpochMilli()));
                OffsetAndTimestamp found = at.get(tp);
                if (found == null) {
                    consumer.seekToEnd(List.of(tp));
                } else {
                    consumer.seek(tp, found.offset());
                }
            }
            default -> throw new IllegalStateException("unknown start " + kind);
        }
        return consumer.position(tp);
    }
}
