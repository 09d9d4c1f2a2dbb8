package io.streamrlhf.rewardstream.scoring.judge;

import java.util.Locale;

/** How a judge is asked. */
public enum JudgeMode {
    /** Rate one response; the score is the number in the reply. */
    POINTWISE,
    /** Compare the response (A) with a reference (B); the score is 1 when A wins and 0 when B wins. */
    PAIRWISE;

    /** Parses {@code pointwise} or {@code pairwise}. */
    public static JudgeMode parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown judge mode '" + text + "'; expected pointwise or pairwise", e);
        }
    }
}
