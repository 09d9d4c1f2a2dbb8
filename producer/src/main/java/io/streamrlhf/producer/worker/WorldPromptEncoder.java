package io.streamrlhf.producer.worker;

import io.streamrlhf.models.world.Vocabulary;
import java.util.ArrayList;
import java.util.List;

/**
 * The synthetic world's prompt encoder. Encoding follows the world's convention ({@link Vocabulary#encodePrompt}):
 * {@code <bos>} then the words of the rendered text, unknown words as {@code <unk>}. A prompt too long for the
 * context keeps {@code <bos>} and its last words, leaving room for at least {@code minNewTokens}.
 */
public final class WorldPromptEncoder implements PromptEncoder {

    private final Vocabulary vocabulary;
    private final int maxPromptTokens;

    /**
     * @param vocabulary    the policy's vocabulary
     * @param contextLength the policy's context length
     * @param minNewTokens  tokens that must stay free for the response
     */
    public WorldPromptEncoder(Vocabulary vocabulary, int contextLength, int minNewTokens) {
        this.vocabulary = vocabulary;
        this.maxPromptTokens = contextLength - Math.max(1, Math.min(minNewTokens, contextLength / 2));
        if (maxPromptTokens < 2) {
            throw new IllegalArgumentException("context length " + contextLength + " leaves no room for a prompt");
        }
    }

    /** {@code <bos>} and the text's words, truncated from the front to fit. */
    @Override
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
    @Override
    public String decode(int[] responseIds) {
        return Vocabulary.join(vocabulary.responseWords(responseIds));
    }

    /** The most prompt tokens kept, {@code <bos>} included. */
    @Override
    public int maxPromptTokens() {
        return maxPromptTokens;
    }

    @Override
    public int eosId() {
        return vocabulary.eosId();
    }

    @Override
    public int padId() {
        return vocabulary.padId();
    }
}
