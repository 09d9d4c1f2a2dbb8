package io.streamrlhf.evaluator.rmb;

/** The two RMB test sets: which shape an item has and which accuracy it counts in. */
public enum RmbSet {
    /** Pairwise set: a chosen and a rejected response ({@code pair_uid}, {@code chosen}, {@code reject}). */
    PAIRWISE("pairwise"),
    /** Best-of-N set: one best response and its losers ({@code bon_uid}, {@code bon_best}, {@code loser_list}). */
    BEST_OF_N("bon");

    private final String label;

    RmbSet(String label) {
        this.label = label;
    }

    /** The short name used in reports and JSON: {@code pairwise} or {@code bon}. */
    public String label() {
        return label;
    }
}
