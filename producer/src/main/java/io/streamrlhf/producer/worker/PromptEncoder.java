package io.streamrlhf.producer.worker;

import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Role;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns a prompt's conversation into the text and token ids the policy sees, and generated ids back into text.
 *
 * <p>Rendering: a single user turn is its content as is (the synthetic world's prompts are exactly that); a longer
 * conversation is one line per turn, {@code role: content}. Encoding follows the world's convention
 * ({@link Vocabulary#encodePrompt}): {@code <bos>} then the words, unknown words as {@code <unk>}. A prompt too long
 * for the context keeps {@code <bos>} and its last words, leaving room for at least {@code minNewTokens}.
 */
public final class PromptEncoder {

    private final Vocabulary vocabulary;
    private final int maxPromptTokens;

    /**
     * @param vocabulary    the policy's vocabulary
     * @param contextLength the policy's context length
     * @param minNewTokens  tokens that must stay free for the response
     */
    public PromptEncoder(Vocabulary vocabulary, int contextLength, int minNewTokens) {
        this.vocabulary = vocabulary;
        this.maxPromptTokens = contextLength - Math.max(1, Math.min(minNewTokens, contextLength / 2));
        if (maxPromptTokens < 2) {
            throw new IllegalArgumentException("context length " + contextLength + " leaves no room for a prompt");
        }
    }

    /** The text the policy answers, from the conversation (oldest turn first). */
    public static String render(List<ConversationTurn> conversation) {
        if (conversation.isEmpty()) {
            throw new IllegalArgumentException("the prompt's conversation is empty");
        }
        if (conversation.size() == 1) {
            return conversation.get(0).getContent();
        }
        StringBuilder out = new StringBuilder();
        for (ConversationTurn turn : conversation) {
            if (out.length() > 0) {
                out.append('\n');
            }
            Role role = turn.getRole() == null ? Role.UNKNOWN : turn.getRole();
            out.append(role.name().toLowerCase(Locale.ROOT)).append(": ").append(turn.getContent());
        }
        return out.toString();
    }

    /** {@code <bos>} and the text's words, truncated from the front to fit. */
    public int[] encode(String text) {
        List<String> words = Vocabulary.split(text);
        int keep = Math.min(words.size(), maxPromptTokens - 1);
        List<String> kept = new ArrayList<>(words.subList(words.size() - keep, words.size()));
        int[] ids = new int[kept.size() + 1];
        ids[0] = vocabulary.bosId();
        for (int i = 0; i < kept.size(); i++) {
            ids[i + 1] = vocabulary.id(kept.get(i));
        }
        return ids;
    }

    /** The response text of generated ids: words up to the first {@code <eos>}, joined by spaces. */
    public String decode(int[] responseIds) {
        return Vocabulary.join(vocabulary.responseWords(responseIds));
    }

    /** The most prompt tokens kept, {@code <bos>} included. */
    public int maxPromptTokens() {
        return maxPromptTokens;
    }
}
