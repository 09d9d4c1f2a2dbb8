package io.streamrlhf.models.hf.tokenizer;

import java.util.List;

/**
 * Renders a conversation into the text a model continues: the model's own {@code chat_template}
 * ({@link JinjaChatTemplate}), or the turns' plain text where a model has none ({@link PlainTextChatTemplate}).
 */
public interface ChatTemplate {

    /**
     * The conversation as text.
     *
     * @param messages            the turns, oldest first
     * @param addGenerationPrompt end with the text that opens an assistant turn (Hugging Face's
     *                            {@code add_generation_prompt}), so the model writes the reply
     */
    String render(List<ChatMessage> messages, boolean addGenerationPrompt);

    /** Whether this is a model's own template (false for the plain-text fallback). */
    boolean isModelTemplate();
}
