package io.streamrlhf.producer.worker;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.hf.tokenizer.ChatMessage;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Role;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A Hugging Face policy's prompt encoder: the tokenizer and chat template its checkpoint carries. A conversation
 * goes through the model's {@code chat_template} with the generation prompt added (plain text when the model has
 * none); a response decodes without special tokens, up to its first stop id. A prompt longer than the context
 * leaves is refused (cutting a templated prompt would cut its format), so the worker dead-letters it.
 */
public final class HfPromptEncoder implements PromptEncoder {

    private final HfTokenizer tokenizer;
    private final int maxPromptTokens;
    private final int[] stopIds;

    /**
     * @param tokenizer     the policy's tokenizer (closed with this encoder)
     * @param contextLength the policy's context length
     * @param minNewTokens  tokens that must stay free for the response
     */
    public HfPromptEncoder(HfTokenizer tokenizer, int contextLength, int minNewTokens) {
        this.tokenizer = tokenizer;
        this.maxPromptTokens = contextLength - Math.max(1, Math.min(minNewTokens, contextLength / 2));
        if (maxPromptTokens < 1) {
            throw new IllegalArgumentException("context length " + contextLength + " leaves no room for a prompt");
        }
        this.stopIds = tokenizer.stopIds();
    }

    /**
     * The encoder of the tokenizer files a Hugging Face policy checkpoint carries; they are written to a temporary
     * folder for the tokenizers library, which reads files, and removed once loaded.
     */
    public static HfPromptEncoder fromCheckpoint(Checkpoint checkpoint, int contextLength, int minNewTokens) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("rlhf-tokenizer-");
            for (Map.Entry<String, byte[]> f : checkpoint.modelFiles().entrySet()) {
                Files.write(dir.resolve(f.getKey()), f.getValue());
            }
            return new HfPromptEncoder(HfTokenizer.load(dir), contextLength, minNewTokens);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stage the checkpoint's tokenizer files", e);
        } finally {
            deleteQuietly(dir);
        }
    }

    @Override
    public int[] encode(String text) {
        return check(tokenizer.encodeChat(List.of(new ChatMessage("user", text)), true));
    }

    @Override
    public int[] encode(List<ConversationTurn> conversation, String rendered) {
        List<ChatMessage> messages = new ArrayList<>(conversation.size());
        for (ConversationTurn turn : conversation) {
            Role role = turn.getRole() == null || turn.getRole() == Role.UNKNOWN ? Role.USER : turn.getRole();
            messages.add(new ChatMessage(role.name().toLowerCase(Locale.ROOT), turn.getContent()));
        }
        return check(tokenizer.encodeChat(messages, true));
    }

    private int[] check(int[] ids) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("the prompt encodes to no tokens");
        }
        if (ids.length > maxPromptTokens) {
            throw new IllegalArgumentException("the prompt encodes to " + ids.length + " tokens; the policy's context "
                    + "leaves " + maxPromptTokens + " for a prompt");
        }
        return ids;
    }

    /**
     * The response text, up to the first stop id. Ids past the tokenizer's table decode to nothing, as the tokenizers
     * library decodes them: a model's embedding is often wider than its tokenizer (Qwen2's by some hundred ids), and
     * a sampled padding id is no reason to lose the generation.
     */
    @Override
    public String decode(int[] responseIds) {
        int[] kept = new int[responseIds.length];
        int n = 0;
        for (int id : responseIds) {
            if (id == eosId() || contains(stopIds, id)) {
                break;
            }
            if (id >= 0 && id < tokenizer.vocabSize()) {
                kept[n++] = id;
            }
        }
        return tokenizer.decode(Arrays.copyOf(kept, n), true);
    }

    @Override
    public int maxPromptTokens() {
        return maxPromptTokens;
    }

    @Override
    public int eosId() {
        return tokenizer.eosId();
    }

    @Override
    public int padId() {
        return tokenizer.padId();
    }

    @Override
    public int[] stopIds() {
        return stopIds.clone();
    }

    /** The tokenizer. */
    public HfTokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    private static boolean contains(int[] ids, int id) {
        for (int x : ids) {
            if (x == id) {
                return true;
            }
        }
        return false;
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary folder left behind holds only copies of the checkpoint's files
        }
    }
}
