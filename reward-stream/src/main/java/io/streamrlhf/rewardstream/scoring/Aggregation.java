package io.streamrlhf.rewardstream.scoring;

import java.util.Locale;

/**
 * How an ensemble's (normalised) scores become one reward (DESIGN section 6). The names are what
 * {@code ScoredGeneration.aggregation} records.
 */
public enum Aggregation {
    /** The mean of the scores. */
    MEAN("mean"),
    /** The smallest score: the most pessimistic member decides. */
    MIN("min"),
    /** Mean minus k times the population std: disagreement among members lowers the reward (uncertainty penalty). */
    MEAN_MINUS_K_STD("mean_minus_k_std"),
    /**
     * Each member votes "good" when its score is above the vote threshold; the reward is +1 when most vote good, -1
     * when most vote bad and 0 on a tie.
     */
    MAJORITY_VOTE("majority_vote");

    private final String wireName;

    Aggregation(String wireName) {
        this.wireName = wireName;
    }

    /** The name recorded in the output, e.g. {@code mean_minus_k_std}. */
    public String wireName() {
        return wireName;
    }

    /** Parses a wire name (or the enum constant), case-insensitively. */
    public static Aggregation parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        for (Aggregation a : values()) {
            if (a.wireName.equals(t) || a.name().toLowerCase(Locale.ROOT).equals(t)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown aggregation '" + text
                + "'; expected mean, min, mean_minus_k_std or majority_vote");
    }
}
