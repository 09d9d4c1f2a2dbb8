package io.streamrlhf.rewardstream.scoring;

import java.util.Locale;

/** What the ensemble does when one source cannot score a record (unavailable, or a NaN or infinite score). */
public enum SourceFailurePolicy {
    /** The record is unscorable: the stream dead-letters it. */
    DLQ,
    /** The record is scored by the remaining sources; it is unscorable only if no source is left. */
    SKIP;

    /** Parses {@code dlq} or {@code skip}. */
    public static SourceFailurePolicy parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown source failure policy '" + text + "'; expected dlq or skip", e);
        }
    }
}
