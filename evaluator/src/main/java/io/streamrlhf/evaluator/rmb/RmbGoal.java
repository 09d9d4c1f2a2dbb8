package io.streamrlhf.evaluator.rmb;

import java.util.Locale;

/**
 * RMB's two alignment goals, read from an item's {@code category_path} (e.g.
 * {@code Pairwise_set/Helpfulness/Chat/Casual Conversation}). Items from elsewhere (the {@code preferences} topic)
 * may have no goal: {@link #UNSPECIFIED}, which counts in the set totals and scenarios but in no goal figure.
 */
public enum RmbGoal {
    HELPFULNESS("helpfulness"),
    HARMLESSNESS("harmlessness"),
    UNSPECIFIED("unspecified");

    private final String label;

    RmbGoal(String label) {
        this.label = label;
    }

    /** The lower-case name used in reports and JSON. */
    public String label() {
        return label;
    }

    /** The goal named by a segment of {@code categoryPath}, or {@link #UNSPECIFIED} when none names one. */
    public static RmbGoal of(String categoryPath) {
        if (categoryPath == null) {
            return UNSPECIFIED;
        }
        for (String segment : categoryPath.split("/")) {
            String s = segment.trim().toLowerCase(Locale.ROOT);
            if (s.equals("helpfulness")) {
                return HELPFULNESS;
            }
            if (s.equals("harmlessness")) {
                return HARMLESSNESS;
            }
        }
        return UNSPECIFIED;
    }
}
