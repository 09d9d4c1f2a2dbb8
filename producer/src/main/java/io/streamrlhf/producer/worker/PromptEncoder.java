package io.streamrlhf.producer.worker;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Role;
import java.util.List;
import java.util.Locale;

/**
 * Turns a prompt's conversation into the token ids the policy sees, and generated ids back into text; it also
 * knows the ids that end a response. One per policy: {@link WorldPromptEncoder} for the synthetic world's
 * vocabulary, {@link HfPromptEncoder} for a Hugging Face policy's tokenizer and chat template.
 *
 * <p>The text a generation records ({@link #render}) is the conversation itself, whatever the policy's template:
 * a single user turn is its content as is; a longer conversation is one line per turn, {@code role: content}.
 */
public interface PromptEncoder extends AutoCloseable {

    /** The text the policy answers, from the conversation (oldest turn first). */
    static String render(List<ConversationTurn> conversation) {
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

    /**
     * The encoder of the policy a checkpoint holds.
     *
     * @param contextLength the policy's context length
     * @param minNewTokens  tokens that must stay free for the response
     */
    static PromptEncoder forPolicy(Checkpoint checkpoint, int contextLength, int minNewTokens) {
        if (HfPolicy.holds(checkpoint)) {
            return HfPromptEncoder.fromCheckpoint(checkpoint, contextLength, minNewTokens);
        }
        return new WorldPromptEncoder(Vocabulary.standard(), contextLength, minNewTokens);
    }

    /** The prompt ids of rendered text. */
    int[] encode(String text);

    /**
     * The prompt ids of a conversation; {@code rendered} is {@link #render} of it. By default the ids of the
     * rendered text; a policy with a chat template renders the turns through it.
     *
     * @throws IllegalArgumentException naming what is wrong when the prompt cannot be encoded for this policy
     */
    default int[] encode(List<ConversationTurn> conversation, String rendered) {
        return encode(rendered);
    }

    /** The response text of generated ids (up to the first end-of-sequence id). */
    String decode(int[] responseIds);

    /** The most prompt tokens a row may hold. */
    int maxPromptTokens();

    /** The end-of-sequence id the sampler stops at. */
    int eosId();

    /** The id that pads rows. */
    int padId();

    /** Further ids that end a response (a model's generation config may name several); none by default. */
    default int[] stopIds() {
        return new int[0];
    }

    /** Releases native resources (a tokenizer); nothing by default. */
    @Override
    default void close() {
    }
}
