package io.streamrlhf.rewardstream.scoring;

import io.streamrlhf.schemas.avro.Generation;
import java.util.List;
import java.util.Objects;

/**
 * One thing to score: a prompt and a response, as text and, when known, as the policy's token ids (reward models
 * that share the policy's vocabulary score the tokens directly; others tokenise the text).
 *
 * @param id             an identifier for messages (generation id, RMB pair uid, ...)
 * @param promptText     the rendered prompt
 * @param responseText   the response
 * @param promptTokens   the prompt's token ids, or {@code null} when unknown
 * @param responseTokens the response's token ids, or {@code null} when unknown
 * @param category       scenario or category, or {@code null}
 * @param references     the prompt's reference answers (empty when it has none)
 * @param verifier       the prompt's verifier spec, or {@code null} when it names none
 */
public record ScoringInput(String id, String promptText, String responseText, int[] promptTokens,
                           int[] responseTokens, String category, List<String> references, String verifier) {

    /** Checks the required parts. */
    public ScoringInput {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(promptText, "promptText");
        Objects.requireNonNull(responseText, "responseText");
        references = references == null ? List.of() : List.copyOf(references);
    }

    /** An input without reference answers. */
    public ScoringInput(String id, String promptText, String responseText, int[] promptTokens, int[] responseTokens,
                        String category) {
        this(id, promptText, responseText, promptTokens, responseTokens, category, List.of(), null);
    }

    /** A text-only input (the evaluator's RMB items). */
    public static ScoringInput of(String id, String promptText, String responseText) {
        return new ScoringInput(id, promptText, responseText, null, null, null);
    }

    /** The input for a generation from the {@code generations} topic, tokens included. */
    public static ScoringInput of(Generation generation) {
        return new ScoringInput(generation.getGenerationId(), generation.getPromptText(),
                generation.getResponseText(), toArray(generation.getPromptTokens()),
                toArray(generation.getResponseTokens()), generation.getCategory(),
                generation.getReferenceAnswers(), generation.getVerifier());
    }

    /** Whether both token arrays are present. */
    public boolean hasTokens() {
        return promptTokens != null && responseTokens != null;
    }

    private static int[] toArray(List<Integer> tokens) {
        if (tokens == null) {
            return null;
        }
        int[] out = new int[tokens.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = tokens.get(i);
        }
        return out;
    }
}
