package io.streamrlhf.rewardstream.rescore;

import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * Which records of a topic to re-score: offsets {@code FROM..TO} on every partition (TO exclusive) or times
 * {@code FROM..TO} as ISO-8601 instants (records stamped at or after FROM and before TO); either end may be left
 * open ({@code 100..}, {@code ..2026-12-01T00:00:00Z}).
 *
 * @param fromOffset first offset, or {@code null}
 * @param toOffset   first offset not read, or {@code null}
 * @param fromTime   first timestamp, or {@code null}
 * @param toTime     first timestamp not read, or {@code null}
 */
public record RescoreRange(Long fromOffset, Long toOffset, Instant fromTime, Instant toTime) {

    /** Everything the topic holds now. */
    public static final RescoreRange ALL = new RescoreRange(null, null, null, null);

    /**
     * Parses {@code FROM..TO}.
     *
     * @throws IllegalArgumentException naming the range and what is wrong with it
     */
    public static RescoreRange parse(String text) {
        int dots = text.indexOf("..");
        if (dots < 0) {
            throw new IllegalArgumentException("range '" + text + "': expected FROM..TO, offsets (0..500) or ISO-8601 "
                    + "times (2026-12-01T00:00:00Z..2026-12-02T00:00:00Z); either end may be empty");
        }
        String from = text.substring(0, dots).trim();
        String to = text.substring(dots + 2).trim();
        boolean times = from.contains("T") || to.contains("T");
        try {
            if (times) {
                Instant f = from.isEmpty() ? null : Instant.parse(from);
                Instant t = to.isEmpty() ? null : Instant.parse(to);
                if (f != null && t != null && !f.isBefore(t)) {
                    throw new IllegalArgumentException("range '" + text + "': FROM must be before TO");
                }
                return new RescoreRange(null, null, f, t);
            }
            Long f = from.isEmpty() ? null : Long.parseLong(from);
            Long t = to.isEmpty() ? null : Long.parseLong(to);
            if ((f != null && f < 0) || (t != null && t < 0) || (f != null && t != null && f >= t)) {
                throw new IllegalArgumentException("range '" + text + "': offsets must be >= 0 and FROM < TO");
            }
            return new RescoreRange(f, t, null, null);
        } catch (NumberFormatException | DateTimeParseException e) {
            throw new IllegalArgumentException("range '" + text + "': " + e.getMessage() + " (expected offsets or "
                    + "ISO-8601 instants such as 2026-12-01T00:00:00Z)", e);
        }
    }
}
