package io.streamrlhf.learner.rm.embed;

import java.util.Objects;

/**
 * A labelled preference as text.
 *
 * @param prompt   the prompt (the conversation's text)
 * @param chosen   the preferred response
 * @param rejected the other response
 * @param group    a grouping for held-out evaluation (e.g. RMB's scenario), or {@code null}
 */
public record TextPair(String prompt, String chosen, String rejected, String group) {
    /** Checks the texts. */
    public TextPair {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(chosen, "chosen");
        Objects.requireNonNull(rejected, "rejected");
    }
}
