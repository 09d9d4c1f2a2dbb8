package io.streamrlhf.learner.rm;

import io.streamrlhf.models.tokenizer.Tokenizer;
import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.PreferencePair;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Turns preference texts into token ids the way the reward model being trained will be scored on them, so the
 * reward stream sees what the trainer saw. For the project's own reward models that is the way the policy's tokens
 * look on {@code generations}: the prompt starts with the beginning-of-sequence id, the response ends with the
 * end-of-sequence id ({@link #of(Vocabulary)}, {@link #of(Tokenizer)}). A Hugging Face reward model reads the
 * rendering of its own chat template instead ({@link HfPairEncoder}), where a response's ids depend on its prompt;
 * {@link #split} and {@link #encode(String, String, String, String)} are what work for every encoder.
 */
public interface PairEncoder {

    /**
     * A prompt and its responses as ids: a row the model reads is {@code prompt} followed by one of
     * {@code responses}.
     *
     * @param prompt    the ids every row starts with
     * @param responses each response's ids after them, in the order given
     */
    record Split(int[] prompt, List<int[]> responses) {

        /** Copies the list. */
        public Split {
            responses = List.copyOf(responses);
        }
    }

    /** The prompt's ids, beginning-of-sequence first. */
    int[] prompt(String text);

    /** The response's ids, end-of-sequence last. */
    int[] response(String text);

    /**
     * A prompt and several responses to it as ids; by default {@link #prompt} and each {@link #response}.
     */
    default Split split(String prompt, List<String> responses) {
        return new Split(prompt(prompt), responses.stream().map(this::response).toList());
    }

    /** A (prompt, chosen, rejected) pair of texts as ids, through {@link #split}. */
    default EncodedPair encode(String id, String prompt, String chosen, String rejected) {
        Split s = split(prompt, List.of(chosen, rejected));
        return EncodedPair.of(id, s.prompt(), s.responses().get(0), s.responses().get(1));
    }

    /** Encodes a pair read from {@code preferences}; the conversation's turns are joined by spaces. */
    default EncodedPair encode(PreferencePair pair) {
        return encode(pair.getPairId(), conversationText(pair.getConversation()), pair.getChosen(),
                pair.getRejected());
    }

    /** The turns' contents joined by single spaces (the synthetic world's prompts are one user turn). */
    static String conversationText(List<ConversationTurn> turns) {
        return turns.stream().map(ConversationTurn::getContent).collect(Collectors.joining(" "));
    }

    /** The synthetic world's encoding ({@link Vocabulary#encodePrompt} and {@link Vocabulary#encodeResponse}). */
    static PairEncoder of(Vocabulary vocabulary) {
        return new PairEncoder() {
            @Override
            public int[] prompt(String text) {
                int[] words = vocabulary.encode(Vocabulary.split(text));
                int[] out = new int[words.length + 1];
                out[0] = vocabulary.bosId();
                System.arraycopy(words, 0, out, 1, words.length);
                return out;
            }

            @Override
            public int[] response(String text) {
                return vocabulary.encodeResponse(Vocabulary.split(text));
            }
        };
    }

    /**
     * Any tokenizer, with its special ids added around the encoded text: the policy's encoding. A Hugging Face reward
     * model is trained on its own rendering instead ({@link HfPairEncoder}).
     */
    static PairEncoder of(Tokenizer tokenizer) {
        return new PairEncoder() {
            @Override
            public int[] prompt(String text) {
                int[] ids = tokenizer.encode(text);
                int[] out = new int[ids.length + 1];
                out[0] = tokenizer.bosId();
                System.arraycopy(ids, 0, out, 1, ids.length);
                return out;
            }

            @Override
            public int[] response(String text) {
                int[] ids = tokenizer.encode(text);
                int[] out = java.util.Arrays.copyOf(ids, ids.length + 1);
                out[ids.length] = tokenizer.eosId();
                return out;
            }
        };
    }
}
