package io.streamrlhf.learner.checkpoint;

import java.util.Objects;

/**
 * One immutable file of the segmented ledger, as a checkpoint lists it: which updates it covers and the sha256 that
 * loading checks it against.
 *
 * @param file        path relative to the checkpoint store's root, {@code /}-separated
 *                    (e.g. {@code ledger/seg-000000000001-000000000002-0123456789ab.tsv.gz})
 * @param format      line format: 2 for segments; 1 for the whole-ledger file of a format-1 checkpoint
 * @param level       0 for a checkpoint's own segment; a merge of {@code fanout} level-L segments is level L+1
 * @param firstUpdate first update whose entries it holds
 * @param lastUpdate  last update whose entries it holds
 * @param entries     how many entries it holds
 * @param sha256      hex sha256 of the file's bytes
 * @param size        the file's size in bytes
 */
public record LedgerSegment(String file, int format, int level, long firstUpdate, long lastUpdate, long entries,
                            String sha256, long size) {

    /** Checks the fields. */
    public LedgerSegment {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(sha256, "sha256");
        if (format != 1 && format != 2) {
            throw new IllegalArgumentException("ledger segment " + file + ": unknown format " + format);
        }
        if (entries < 0 || size < 0 || level < 0) {
            throw new IllegalArgumentException("ledger segment " + file + ": negative entries, size or level");
        }
        if (entries > 0 && lastUpdate < firstUpdate) {
            throw new IllegalArgumentException("ledger segment " + file + ": updates " + firstUpdate + ".."
                    + lastUpdate + " are out of order");
        }
    }
}
