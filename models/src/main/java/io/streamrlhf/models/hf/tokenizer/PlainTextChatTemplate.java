package io.streamrlhf.models.hf.tokenizer;

import java.util.List;

/**
 * The rendering for a model without a chat template: a single turn is its content as is; a longer conversation
 * is one line per turn, {@code role: content}. This is the worker's rendering of the synthetic world's prompts,
 * so a base model sees the same text either way. {@code addGenerationPrompt} adds nothing: a base model has no
 * assistant marker to open.
 */
public final class PlainTextChatTemplate implements ChatTemplate {

    /** The one instance (the rendering has no settings). */
    public static final PlainTextChatTemplate INSTANCE = new PlainTextChatTemplate();

    private PlainTextChatTemplate() {
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("the conversation is empty");
        }
        if (messages.size() == 1) {
            return messages.get(0).content();
        }
        StringBuilder out = new StringBuilder();
        for (ChatMessage m : messages) {
            if (out.length() > 0) {
                out.append('\n');
            }
            out.append(m.role()).append(": ").append(m.content());
        }
        return out.toString();
    }

    @Override
    public boolean isModelTemplate() {
        return false;
    }
}
