package io.streamrlhf.learner.checkpoint;

/**
 * One consumed generation in the ledger.
 *
 * @param generationId the generation
 * @param update       the learner update it was consumed in (1-based)
 * @param outcome      what happened to it
 */
public record LedgerEntry(String generationId, long update, Outcome outcome) {

    /** What the learner did with a consumed generation. */
    public enum Outcome {
        /** It took part in the update. */
        TRAINED,
        /** Dropped: more than max_staleness versions old. */
        DROPPED_STALE,
        /** Dropped: its prompt filled the context. */
        DROPPED_TOO_LONG
    }

    /** Tab-separated: update, outcome, id. */
    String toLine() {
        return update + "\t" + outcome + "\t" + generationId;
    }

    static LedgerEntry parse(String line) {
        String[] parts = line.split("\t", 3);
        if (parts.length != 3) {
            throw new IllegalArgumentException("ledger line '" + line + "' does not have 3 tab-separated fields");
        }
        return new LedgerEntry(parts[2], Long.parseLong(parts[0]), Outcome.valueOf(parts[1]));
    }
}
