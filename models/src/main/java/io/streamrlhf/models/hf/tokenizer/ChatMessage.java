package io.streamrlhf.models.hf.tokenizer;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * One turn of a conversation as chat templates read it: {@code role} is {@code "system"}, {@code "user"} or
 * {@code "assistant"} (Hugging Face's names, lower case; the {@code Prompt} contract's {@code Role} symbols map to
 * them by lower-casing), {@code content} the turn's text.
 */
public record ChatMessage(String role, String content) {

    /** Checks that both fields are present. */
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }

    /** A turn whose role is given the way the Avro {@code Role} enum spells it ({@code USER} becomes {@code user}). */
    public static ChatMessage of(String role, String content) {
        return new ChatMessage(role.toLowerCase(Locale.ROOT), content);
    }

    /** The turn as a template sees it: {@code message['role']}, {@code message['content']}. */
    Map<String, Object> asTemplateValue() {
        return Map.of("role", role, "content", content);
    }
}
