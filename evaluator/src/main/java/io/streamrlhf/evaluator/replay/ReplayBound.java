package io.streamrlhf.evaluator.replay;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Objects;

/**
 * One end of a replay range, applied to every partition: the earliest or latest offset, an offset, or a time.
 * A start bound is inclusive; an end bound is exclusive (the first offset not read), as Kafka's end offsets are.
 */
public sealed interface ReplayBound {

    /** The partition's first offset (as a start) or its last stable offset when the replay begins (as an end). */
    record Edge() implements ReplayBound {
    }

    /** An offset, the same on every partition (clamped to what the partition holds). */
    record AtOffset(long offset) implements ReplayBound {
        public AtOffset {
            if (offset < 0) {
                throw new IllegalArgumentException("offset must be >= 0, got " + offset);
            }
        }
    }

    /** The first record with a timestamp at or after {@code time}, on each partition. */
    record AtTime(Instant time) implements ReplayBound {
        public AtTime {
            Objects.requireNonNull(time, "time");
        }
    }

    /** The beginning (as a start) or the current end (as an end). */
    static ReplayBound edge() {
        return new Edge();
    }

    /** An offset bound. */
    static ReplayBound offset(long offset) {
        return new AtOffset(offset);
    }

    /** A time bound. */
    static ReplayBound time(Instant time) {
        return new AtTime(time);
    }

    /**
     * Parses a time given as an ISO-8601 instant ({@code 2026-05-01T12:00:00Z}) or as epoch milliseconds.
     *
     * @throws IllegalArgumentException naming the text and the accepted forms
     */
    static Instant parseTime(String text) {
        String t = text.trim();
        try {
            return t.matches("-?\\d+") ? Instant.ofEpochMilli(Long.parseLong(t)) : Instant.parse(t);
        } catch (DateTimeParseException | NumberFormatException e) {
            throw new IllegalArgumentException("time '" + text + "' is neither an ISO-8601 instant (e.g. "
                    + "2026-05-01T12:00:00Z) nor epoch milliseconds", e);
        }
    }
}
