package io.streamrlhf.rewardstream.scoring;

import java.util.Locale;

/** What the ensemble does when one source cannot score a record (unavailable, or a NaN or infinite score). */
public enum SourceFailurePolicy {
    /** The record is unscorable: the stream dead-letters it. */
    DLQ,
    /** The record is scored by the remaining sources; it is unscorable only if no source is left. */
    SKIP,
    /**
     * A source that fails a whole batch (unreachable, breaker open) fails the batch: nothing of it is committed, the
     * scorer instance stops with the error, and the records wait in Kafka until a restarted instance (the stack's
     * supervisor restarts it with back-off) can score them. A source's NaN for one record still dead-letters that
     * record, as with {@link #DLQ}.
     */
    WAIT;

    /** Parses {@code dlq} or {@code skip}. */
    public static SourceFailurePolicy parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown source failure policy '" + text + "'; expected dlq, skip or wait", e);
        }
    }
}
