package io.streamrlhf.models.sft;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.hf.tokenizer.ChatMessage;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A user's training corpus in JSON Lines, for {@code rlhf sft --model} and PPO-ptx ({@code learner.ptx.data}). Each
 * non-blank line is one JSON object in one of three forms:
 *
 * <pre>
 * {"prompt": "...", "response": "..."}                        the prompt is conditioned on, the response learned
 * {"messages": [{"role": "user", "content": "..."}, ...]}     the last turn (an assistant's) is learned,
 *                                                             the earlier turns are conditioned on
 * {"text": "..."}                                             every token is learned
 * </pre>
 *
 * <p>Other fields (an id, a source) are ignored; a line that mixes two forms is refused. Reading is strict: bad JSON,
 * a missing or empty field, a field of the wrong type, a conversation that does not end with an assistant's turn
 * stop the read with a {@link CorpusFormatException} naming {@code FILE:LINE} and what is wrong, so a corpus is
 * never trained on with lines quietly dropped. Blank lines are not records and are passed over.
 *
 * <p>{@link #encode} turns the examples into token ids with a model's tokenizer, as the policy sees prompts when it
 * samples: the conversation rendered by the chat template with the generation prompt, then the response's own
 * tokens and the EOS, so the model learns where to stop.
 */
public final class JsonlCorpus {

    /** The three line forms. */
    public enum Form {
        /** {@code {"prompt", "response"}}. */
        PROMPT_RESPONSE,
        /** {@code {"messages": [...]}}. */
        MESSAGES,
        /** {@code {"text"}}. */
        TEXT
    }

    /**
     * One line of the corpus.
     *
     * @param line    its 1-based line number in the file
     * @param form    which form it has
     * @param context the conditioned turns: the prompt as one user turn, the turns before the last, or none (text)
     * @param learned the learned text: the response, the last assistant turn's content, or the text
     */
    public record Example(int line, Form form, List<ChatMessage> context, String learned) {

        /** Copies the turns. */
        public Example {
            Objects.requireNonNull(form, "form");
            Objects.requireNonNull(learned, "learned");
            context = List.copyOf(context);
        }
    }

    private static final String PROMPT = "prompt";
    private static final String RESPONSE = "response";
    private static final String MESSAGES = "messages";
    private static final String TEXT = "text";
    private static final String ASSISTANT = "assistant";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Path file;
    private final List<Example> examples;

    private JsonlCorpus(Path file, List<Example> examples) {
        this.file = file;
        this.examples = List.copyOf(examples);
    }

    /**
     * Reads and checks every line of {@code file} (UTF-8).
     *
     * @throws CorpusFormatException naming {@code FILE:LINE} and the fault, or the file when it is missing,
     *                               unreadable or holds no example
     */
    public static JsonlCorpus read(Path file) {
        List<Example> examples = new ArrayList<>();
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        // Lines are split on bytes and decoded one at a time, so a byte that is not UTF-8 is reported at its line
        // (a Reader decodes ahead in blocks and cannot say where).
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
            int lineNumber = 0;
            int b;
            do {
                b = in.read();
                if (b != -1 && b != '\n') {
                    bytes.write(b);
                    continue;
                }
                if (b == -1 && bytes.size() == 0) {
                    break;
                }
                lineNumber++;
                String line;
                try {
                    line = utf8.decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
                } catch (CharacterCodingException e) {
                    throw new CorpusFormatException(file, lineNumber, "the line is not UTF-8 text", e);
                }
                bytes.reset();
                if (lineNumber == 1 && line.startsWith("\uFEFF")) {
                    line = line.substring(1);  // a byte-order mark some editors write
                }
                if (!line.isBlank()) {
                    examples.add(parse(file, lineNumber, line));
                }
            } while (b != -1);
        } catch (NoSuchFileException e) {
            throw new CorpusFormatException(file, "does not exist", e);
        } catch (IOException e) {
            throw new CorpusFormatException(file, "cannot be read: " + e.getMessage(), e);
        }
        if (examples.isEmpty()) {
            throw new CorpusFormatException(file, "holds no examples (expected one JSON object per line: "
                    + "{\"prompt\", \"response\"}, {\"messages\"} or {\"text\"})", null);
        }
        return new JsonlCorpus(file, examples);
    }

    /** The examples in file order. */
    public List<Example> examples() {
        return examples;
    }

    /** The file read. */
    public Path file() {
        return file;
    }

    /** Examples read. */
    public int size() {
        return examples.size();
    }

    private static Example parse(Path file, int n, String line) {
        JsonNode root;
        try {
            root = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new CorpusFormatException(file, n, "not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new CorpusFormatException(file, n, "expected a JSON object, got " + kind(root));
        }
        boolean pair = root.has(PROMPT) || root.has(RESPONSE);
        boolean messages = root.has(MESSAGES);
        boolean text = root.has(TEXT);
        int forms = (pair ? 1 : 0) + (messages ? 1 : 0) + (text ? 1 : 0);
        if (forms == 0) {
            List<String> fields = new ArrayList<>();
            root.fieldNames().forEachRemaining(fields::add);
            throw new CorpusFormatException(file, n, "has none of the fields \"prompt\" and \"response\", "
                    + "\"messages\" or \"text\" (it has " + (fields.isEmpty() ? "none" : String.join(", ", fields))
                    + ")");
        }
        if (forms > 1) {
            throw new CorpusFormatException(file, n, "mixes the forms " + (pair ? "{\"prompt\", \"response\"} " : "")
                    + (messages ? "{\"messages\"} " : "") + (text ? "{\"text\"} " : "")
                    + "on one line; use one of them");
        }
        if (text) {
            return new Example(n, Form.TEXT, List.of(), requiredText(file, n, root, TEXT, true));
        }
        if (pair) {
            if (!root.has(PROMPT)) {
                throw new CorpusFormatException(file, n, "missing field \"prompt\" (a \"response\" needs the prompt "
                        + "it answers; for text learned whole use {\"text\"})");
            }
            if (!root.has(RESPONSE)) {
                throw new CorpusFormatException(file, n, "missing field \"response\" (the text to learn)");
            }
            String prompt = requiredText(file, n, root, PROMPT, true);
            String response = requiredText(file, n, root, RESPONSE, true);
            return new Example(n, Form.PROMPT_RESPONSE, List.of(new ChatMessage("user", prompt)), response);
        }
        return conversation(file, n, root.get(MESSAGES));
    }

    private static Example conversation(Path file, int n, JsonNode turns) {
        if (!turns.isArray()) {
            throw new CorpusFormatException(file, n, "field \"messages\" must be an array of {\"role\", \"content\"}, "
                    + "got " + kind(turns));
        }
        if (turns.size() < 2) {
            throw new CorpusFormatException(file, n, "field \"messages\" has " + turns.size() + " turn"
                    + (turns.size() == 1 ? "" : "s") + "; it needs at least one turn to condition on and the "
                    + "assistant's turn to learn");
        }
        List<ChatMessage> messages = new ArrayList<>(turns.size());
        for (int i = 0; i < turns.size(); i++) {
            JsonNode turn = turns.get(i);
            String where = "messages[" + i + "]";
            if (!turn.isObject()) {
                throw new CorpusFormatException(file, n, where + " must be an object {\"role\", \"content\"}, got "
                        + kind(turn));
            }
            boolean last = i == turns.size() - 1;
            String role = requiredText(file, n, turn, "role", true, where);
            String content = requiredText(file, n, turn, "content", last, where);
            messages.add(new ChatMessage(role, content));
        }
        ChatMessage last = messages.get(messages.size() - 1);
        if (!ASSISTANT.equals(last.role())) {
            throw new CorpusFormatException(file, n, "the last turn of \"messages\" (messages[" + (messages.size() - 1)
                    + "]) has role \"" + last.role() + "\"; the learned turn must be the assistant's");
        }
        return new Example(n, Form.MESSAGES, messages.subList(0, messages.size() - 1), last.content());
    }

    private static String requiredText(Path file, int n, JsonNode object, String field, boolean nonEmpty) {
        return requiredText(file, n, object, field, nonEmpty, null);
    }

    private static String requiredText(Path file, int n, JsonNode object, String field, boolean nonEmpty,
                                       String within) {
        String name = within == null ? "field \"" + field + "\"" : within + "." + field;
        JsonNode value = object.get(field);
        if (value == null) {
            throw new CorpusFormatException(file, n, (within == null ? "" : within + ": ") + "missing field \""
                    + field + "\"");
        }
        if (!value.isTextual()) {
            throw new CorpusFormatException(file, n, name + " must be a string, got " + kind(value));
        }
        if (nonEmpty && value.textValue().isBlank()) {
            throw new CorpusFormatException(file, n, name + " is empty");
        }
        return value.textValue();
    }

    private static String kind(JsonNode node) {
        if (node == null || node.isMissingNode()) {
            return "nothing";
        }
        return switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    /**
     * The examples as token ids for a policy of {@code context} positions. A prompt or conversation is rendered by
     * the tokenizer's chat template with the generation prompt (plain text where the model has none), then the
     * learned text's tokens follow with the EOS; a text example is encoded with the model's special tokens (a BOS
     * where the model adds one) and the EOS, every token after the first learned. The learned part is encoded on its
     * own, as the policy samples it after a rendered prompt.
     *
     * <p>A sequence longer than the context is cut at it (counted in {@link EncodedCorpus#truncated()}). An example
     * whose prompt alone fills the context has nothing left to learn: it is skipped, and its line is listed in
     * {@link EncodedCorpus#skippedLines()} for the caller to report.
     *
     * @throws CorpusFormatException naming {@code FILE:LINE} where the chat template refuses a conversation, or the
     *                               file when no example fits the context
     */
    public EncodedCorpus encode(HfTokenizer tokenizer, int context) {
        if (context < 2) {
            throw new IllegalArgumentException("context must be >= 2 tokens, got " + context);
        }
        int eos = tokenizer.eosId();
        List<EncodedCorpus.Sequence> sequences = new ArrayList<>(examples.size());
        List<Integer> skipped = new ArrayList<>();
        int truncated = 0;
        for (Example ex : examples) {
            int[] ids;
            int learnedFrom;
            if (ex.form() == Form.TEXT) {
                ids = withEos(tokenizer.encode(ex.learned(), true), eos);
                learnedFrom = 1;  // nothing predicts the first token
            } else {
                int[] prompt;
                try {
                    prompt = tokenizer.encodeChat(ex.context(), true);
                } catch (RuntimeException e) {
                    throw new CorpusFormatException(file, ex.line(), "the model's chat template refuses the "
                            + "conversation: " + e.getMessage(), e);
                }
                if (prompt.length == 0) {
                    throw new CorpusFormatException(file, ex.line(), "the prompt renders to no tokens");
                }
                int[] response = withEos(tokenizer.encode(ex.learned(), false), eos);
                ids = Arrays.copyOf(prompt, prompt.length + response.length);
                System.arraycopy(response, 0, ids, prompt.length, response.length);
                learnedFrom = prompt.length;
            }
            if (ids.length <= learnedFrom) {
                throw new CorpusFormatException(file, ex.line(), "the learned text encodes to no tokens");
            }
            if (learnedFrom >= context) {
                skipped.add(ex.line());
                continue;
            }
            if (ids.length > context) {
                ids = Arrays.copyOf(ids, context);
                truncated++;
            }
            sequences.add(new EncodedCorpus.Sequence(ex.line(), ids, learnedFrom));
        }
        if (sequences.isEmpty()) {
            throw new CorpusFormatException(file, "no example fits the context of " + context + " tokens: every "
                    + "prompt fills it", null);
        }
        return new EncodedCorpus(file, sequences, skipped, truncated, context);
    }

    private static int[] withEos(int[] ids, int eos) {
        if (ids.length > 0 && ids[ids.length - 1] == eos) {
            return ids;
        }
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = eos;
        return out;
    }
}
