package io.streamrlhf.learner.rm;

import java.util.List;
import java.util.Objects;

/**
 * Several responses of the current policy to one prompt, as token ids: what MetaRM's meta step
 * reads from {@code generations}.
 *
 * @param promptId  the prompt's id
 * @param prompt    the prompt's tokens
 * @param responses the responses' tokens
 */
public record PromptGroup(String promptId, int[] prompt, List<int[]> responses) {

    /** Copies the list. */
    public PromptGroup {
        Objects.requireNonNull(promptId, "promptId");
        Objects.requireNonNull(prompt, "prompt");
        responses = List.copyOf(responses);
    }
}
