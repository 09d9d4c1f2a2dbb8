package io.streamrlhf.evaluator.rmb;

import java.util.Objects;

/**
 * One candidate response of an item ({@code {llm_name, answer}}).
 *
 * @param llmName the model that wrote it, or {@code null} when absent
 * @param answer  the response text
 */
public record RmbResponse(String llmName, String answer) {

    /** Checks the answer is present. */
    public RmbResponse {
        Objects.requireNonNull(answer, "answer");
    }
}
