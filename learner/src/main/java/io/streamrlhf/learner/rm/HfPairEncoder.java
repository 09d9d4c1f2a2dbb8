package io.streamrlhf.learner.rm;

import io.streamrlhf.models.hf.RewardInputs;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import io.streamrlhf.models.hf.tokenizer.TokenizerFileException;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.avro.Role;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Preference texts as the ids a Hugging Face reward model reads, with the model folder's tokenizer: each
 * (prompt, response) is rendered whole by {@link RewardInputs#ids} — the conversation [user: prompt, assistant:
 * response] through the folder's chat template, or the plain text where it has none — exactly as {@code hf:DIR}
 * in the reward stream renders a generation, so the trainer and the scorer see the same ids.
 *
 * <p>A template renders a response together with its prompt, so the rows are split after the fact: the prompt's
 * part ({@link Split#prompt()}) is the longest run of ids that every response's row and the prompt rendered alone
 * (with the generation prompt) start with, and each response's part is the rest of its row. Prompt part followed
 * by response part is always the whole rendered row, whatever the tokenizer merges across the boundary.
 *
 * <p>{@link #response(String)} alone is refused: a response's ids depend on its prompt here.
 */
public final class HfPairEncoder implements PairEncoder {

    private final HfTokenizer tokenizer;

    private HfPairEncoder(HfTokenizer tokenizer) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    }

    /** An encoder over {@code tokenizer} (the reward model folder's own); the caller keeps and closes it. */
    public static HfPairEncoder of(HfTokenizer tokenizer) {
        return new HfPairEncoder(tokenizer);
    }

    /** The tokenizer. */
    public HfTokenizer tokenizer() {
        return tokenizer;
    }

    /** The prompt rendered alone, with the generation prompt ({@link RewardInputs#promptIds}). */
    @Override
    public int[] prompt(String text) {
        return RewardInputs.promptIds(tokenizer, text);
    }

    /**
     * Refused: under a chat template a response's ids depend on the prompt it follows.
     *
     * @throws UnsupportedOperationException always; use {@link #split} or {@link #encode(String, String, String, String)}
     */
    @Override
    public int[] response(String text) {
        throw new UnsupportedOperationException("a Hugging Face reward model's response ids depend on the prompt its"
                + " chat template renders them with: encode the prompt and its responses together (split, encode)");
    }

    /**
     * Each response's whole row ({@link RewardInputs#ids}), split into the part they and the prompt share and the
     * rest (see the class comment).
     *
     * @throws IllegalArgumentException when the chat template raises for the conversation
     */
    @Override
    public Split split(String prompt, List<String> responses) {
        List<int[]> rows = new ArrayList<>(responses.size());
        try {
            for (String response : responses) {
                rows.add(RewardInputs.ids(tokenizer, prompt, response));
            }
            int[] alone = RewardInputs.promptIds(tokenizer, prompt);
            int shared = alone.length;
            for (int[] row : rows) {
                shared = Math.min(shared, commonPrefix(alone, row));
            }
            List<int[]> rest = new ArrayList<>(rows.size());
            for (int[] row : rows) {
                rest.add(Arrays.copyOfRange(row, shared, row.length));
            }
            return new Split(Arrays.copyOf(alone, shared), rest);
        } catch (TokenizerFileException e) {
            throw new IllegalArgumentException("cannot render prompt '" + abbreviate(prompt) + "' with the chat template"
                    + " of " + tokenizer.folder() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Encodes a pair read from {@code preferences}; the prompt is the conversation's text as a policy worker
     * records it on a generation, which is what {@code hf:DIR} renders: a single turn's content, or one
     * {@code role: content} line per turn.
     */
    @Override
    public EncodedPair encode(PreferencePair pair) {
        return encode(pair.getPairId(), promptText(pair.getConversation()), pair.getChosen(), pair.getRejected());
    }

    /**
     * A conversation's text as a generation records it (the producer's {@code PromptEncoder.render}, which this
     * module cannot reach): a single turn's content as is; a longer conversation one line per turn,
     * {@code role: content}.
     *
     * @throws IllegalArgumentException when the conversation is empty
     */
    public static String promptText(List<ConversationTurn> conversation) {
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

    private static int commonPrefix(int[] a, int[] b) {
        int n = Math.min(a.length, b.length);
        int i = 0;
        while (i < n && a[i] == b[i]) {
            i++;
        }
        return i;
    }

    private static String abbreviate(String text) {
        return text.length() <= 60 ? text : text.substring(0, 57) + "...";
    }
}
