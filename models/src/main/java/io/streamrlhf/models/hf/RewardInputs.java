package io.streamrlhf.models.hf;

import io.streamrlhf.models.hf.tokenizer.ChatMessage;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import io.streamrlhf.models.hf.tokenizer.TokenizerFileException;
import java.util.List;

/**
 * The ids a Hugging Face reward model reads for a (prompt, response) pair, from the model folder's own tokenizer:
 * the one rendering that scoring ({@code hf:DIR} in the reward stream) and training ({@code rlhf train-rm --model})
 * share, so a trained model is scored on the ids it was trained on.
 * <ul>
 *   <li>When the folder has a {@code chat_template}, the conversation [user: prompt, assistant: response] rendered
 *       by it without a generation prompt and encoded without adding special tokens (the template writes its own),
 *       as {@code tokenizer.apply_chat_template(conversation, tokenize=True)} does.</li>
 *   <li>Without one, the prompt text followed by the response text, with one space between them where neither
 *       brings whitespace of its own (a response decoded by a SentencePiece tokenizer loses the leading space a
 *       byte-level one keeps), encoded with the tokenizer's special tokens as {@code tokenizer(text)} does.</li>
 * </ul>
 */
public final class RewardInputs {

    private RewardInputs() {
    }

    /**
     * The whole sequence's ids, untruncated.
     *
     * @throws TokenizerFileException when the chat template raises for this conversation
     */
    public static int[] ids(HfTokenizer tokenizer, String prompt, String response) {
        if (tokenizer.chatTemplate().isModelTemplate()) {
            return tokenizer.encodeChat(List.of(new ChatMessage("user", prompt), new ChatMessage("assistant",
                    response)), false);
        }
        return tokenizer.encode(plainText(prompt, response), true);
    }

    /**
     * The ids of the prompt's part as it is rendered alone: [user: prompt] with the generation prompt that opens
     * the assistant's turn, or the prompt text with special tokens. A prefix of {@link #ids} for the usual
     * templates, though not for every tokenizer (merges may cross the boundary), so callers that split a sequence
     * into prompt and response compare rather than assume.
     */
    public static int[] promptIds(HfTokenizer tokenizer, String prompt) {
        if (tokenizer.chatTemplate().isModelTemplate()) {
            return tokenizer.encodeChat(List.of(new ChatMessage("user", prompt)), true);
        }
        return tokenizer.encode(prompt, true);
    }

    /** Prompt then response, with a space between where neither side brings whitespace (see the class comment). */
    public static String plainText(String prompt, String response) {
        boolean join = !prompt.isEmpty() && !response.isEmpty()
                && !Character.isWhitespace(prompt.charAt(prompt.length() - 1))
                && !Character.isWhitespace(response.charAt(0));
        return join ? prompt + " " + response : prompt + response;
    }
}
