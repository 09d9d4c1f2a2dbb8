package io.streamrlhf.learner.checkpoint;

import java.util.Objects;

/**
 * One consumed generation in the ledger, with where it was read.
 *
 * @param generationId the generation
 * @param update       the learner update it was consumed in (1-based)
 * @param outcome      what happened to it
 * @param partition    the {@code topic-partition} it was read from (the key of a checkpoint's offsets), or
 *                     {@link #UNKNOWN_PARTITION} for entries of ledgers written before positions were recorded
 * @param offset       its offset in that partition, or {@link #UNKNOWN_OFFSET}
 */
public record LedgerEntry(String generationId, long update, Outcome outcome, String partition, long offset) {

    /** The partition of an entry whose position was not recorded (format-1 ledgers). */
    public static final String UNKNOWN_PARTITION = "";
    /** The offset of an entry whose position was not recorded (format-1 ledgers). */
    public static final long UNKNOWN_OFFSET = -1;

    /** What the learner did with a consumed generation. */
    public enum Outcome {
        /** It took part in the update. */
        TRAINED,
        /** Dropped: more than max_staleness versions old. */
        DROPPED_STALE,
        /** Dropped: its prompt filled the context. */
        DROPPED_TOO_LONG
    }

    /** Checks the fields; a generation id may not hold a tab or a line break (the segment format's separators). */
    public LedgerEntry {
        Objects.requireNonNull(generationId, "generationId");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(partition, "partition");
        if (generationId.indexOf('\t') >= 0 || generationId.indexOf('\n') >= 0 || generationId.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("generation id '" + generationId
                    + "' holds a tab or line break and cannot go into the ledger");
        }
        if (partition.indexOf('\t') >= 0 || partition.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("partition '" + partition + "' holds a tab or line break");
        }
        if (offset < UNKNOWN_OFFSET) {
            throw new IllegalArgumentException("offset of " + generationId + " must be >= 0 (or -1 for unknown), got "
                    + offset);
        }
    }

    /** An entry whose position is unknown (what format-1 ledgers hold). */
    public LedgerEntry(String generationId, long update, Outcome outcome) {
        this(generationId, update, outcome, UNKNOWN_PARTITION, UNKNOWN_OFFSET);
    }

    /** Whether the partition and offset it was read from are recorded. */
    public boolean hasPosition() {
        return !partition.isEmpty() && offset >= 0;
    }

    /** Format 2 (segments), tab-separated: update, outcome, partition, offset, id. */
    String toLine() {
        return update + "\t" + outcome + "\t" + partition + "\t" + offset + "\t" + generationId;
    }

    /**
     * Parses one line of a ledger file.
     *
     * @param format 1: update, outcome, id (the whole-ledger {@code ledger.tsv.gz} of format-1 checkpoints);
     *               2: update, outcome, partition, offset, id (segments)
     */
    static LedgerEntry parse(String line, int format) {
        if (format == 1) {
            String[] parts = line.split("\t", 3);
            if (parts.length != 3) {
                throw new IllegalArgumentException("ledger line '" + line + "' does not have 3 tab-separated fields");
            }
            return new LedgerEntry(parts[2], Long.parseLong(parts[0]), Outcome.valueOf(parts[1]));
        }
        if (format != 2) {
            throw new IllegalArgumentException("unknown ledger format " + format + " (known: 1, 2)");
        }
        String[] parts = line.split("\t", 5);
        if (parts.length != 5) {
            throw new IllegalArgumentException("ledger line '" + line + "' does not have 5 tab-separated fields");
        }
        return new LedgerEntry(parts[4], Long.parseLong(parts[0]), Outcome.valueOf(parts[1]), parts[2],
                Long.parseLong(parts[3]));
    }
}
