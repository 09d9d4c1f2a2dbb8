package io.streamrlhf.models.world;

import java.util.List;

/**
 * One example of the SFT corpus.
 *
 * @param prompt   the prompt
 * @param response the response's words (no {@code <eos>})
 */
public record SftExample(WorldPrompt prompt, List<String> response) {

    /** Copies the response. */
    public SftExample {
        response = List.copyOf(response);
    }

    /** The response as text. */
    public String responseText() {
        return Vocabulary.join(response);
    }
}
