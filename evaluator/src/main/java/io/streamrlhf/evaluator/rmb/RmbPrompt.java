package io.streamrlhf.evaluator.rmb;

import java.util.List;
import java.util.Locale;

/**
 * Renders an RMB conversation as the prompt text a reward source scores: each turn as {@code Role: content},
 * separated by a blank line, so a multi-turn conversation keeps its earlier turns (a reward model or judge sees the
 * whole context, as RMB intends) and the roles stay distinguishable.
 */
public final class RmbPrompt {

    private RmbPrompt() {
    }

    /** The prompt text of {@code conversation}; empty for no turns. */
    public static String render(List<RmbTurn> conversation) {
        StringBuilder text = new StringBuilder();
        for (RmbTurn turn : conversation) {
            if (!text.isEmpty()) {
                text.append("\n\n");
            }
            text.append(capitalise(turn.role())).append(": ").append(turn.content());
        }
        return text.toString();
    }

    private static String capitalise(String role) {
        String r = role.trim();
        return r.isEmpty() ? "Unknown" : r.substring(0, 1).toUpperCase(Locale.ROOT) + r.substring(1);
    }
}
