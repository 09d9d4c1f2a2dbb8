package io.streamrlhf.learner.rm;

import io.streamrlhf.models.tokenizer.Tokenizer;
import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.PreferencePair;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Turns preference texts into token ids, the way the policy's tokens look on {@code generations}
 * (so the reward stream, which scores those tokens, sees what the trainer saw): the prompt starts
 * with the beginning-of-sequence id, the response ends with the end-of-sequence id.
 */
public interface PairEncoder {

    /** The prompt's ids, beginning-of-sequence first. */
    int[] prompt(String text);

    /** The response's ids, end-of-sequence last. */
    int[] response(String text);

    /** Encodes a pair read from {@code preferences}; the conversation's turns are joined by spaces. */
    default EncodedPair encode(PreferencePair pair) {
        return EncodedPair.of(pair.getPairId(), prompt(conversationText(pair.getConversation())),
                response(pair.getChosen()), response(pair.getRejected()));
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

    /** Any tokenizer, with its special ids added around the encoded text. */
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
