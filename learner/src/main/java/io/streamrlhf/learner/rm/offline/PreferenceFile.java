package io.streamrlhf.learner.rm.offline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.learner.rm.EncodedPair;
import io.streamrlhf.learner.rm.PairEncoder;
import io.streamrlhf.learner.rm.embed.TextPair;
import io.streamrlhf.schemas.jsonl.JsonlLines;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A JSONL file of preference pairs for {@code rlhf train-rm --file}: one JSON object a line with the texts
 * {@code prompt}, {@code chosen} and {@code rejected} (the common layout of preference data sets), and optionally
 * {@code id} ({@code line-N} where absent) and, as the synthetic world's preference set ({@code rlhf sft
 * --preferences}) writes them, {@code chosen_gold}, {@code rejected_gold} and {@code flipped}. Other fields are
 * ignored; blank lines are skipped.
 */
public final class PreferenceFile {

    private static final ObjectMapper JSON = new ObjectMapper();

    private PreferenceFile() {
    }

    /**
     * The file's pairs, encoded by {@code encoder}.
     *
     * @throws IllegalArgumentException naming the file, line and field: a line that is not a JSON object, or a
     *                                  missing or non-text {@code prompt}, {@code chosen} or {@code rejected}
     * @throws UncheckedIOException     when the file cannot be read
     */
    public static List<EncodedPair> read(Path file, PairEncoder encoder) {
        List<EncodedPair> out = new ArrayList<>();
        forEachLine(file, (lineNo, root) -> out.add(pair(file, lineNo, root, encoder)));
        return out;
    }

    /**
     * The file's pairs as text, for encoders that read text themselves; a {@code category} field, where present,
     * becomes the pair's group.
     *
     * @throws IllegalArgumentException as {@link #read}
     */
    public static List<TextPair> readTexts(Path file) {
        List<TextPair> out = new ArrayList<>();
        forEachLine(file, (lineNo, root) -> {
            JsonNode category = root.get("category");
            out.add(new TextPair(text(file, lineNo, root, "prompt"), text(file, lineNo, root, "chosen"),
                    text(file, lineNo, root, "rejected"), category != null && category.isTextual()
                    ? category.asText() : null));
        });
        return out;
    }

    private static void forEachLine(Path file, LineConsumer consumer) {
        try {
            JsonlLines.forEach(file, line -> {
                if (line.problem() != null) {
                    throw new IllegalArgumentException(file + " line " + line.number() + ": " + line.problem());
                }
                if (line.isBlank()) {
                    return;
                }
                JsonNode root;
                try {
                    root = JSON.readTree(line.text());
                } catch (JsonProcessingException e) {
                    throw new IllegalArgumentException(file + " line " + line.number() + ": not JSON: "
                            + e.getOriginalMessage(), e);
                }
                if (root == null || !root.isObject()) {
                    throw new IllegalArgumentException(file + " line " + line.number() + ": not a JSON object");
                }
                consumer.accept(line.number(), root);
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read preference file " + file + ": " + e.getMessage(), e);
        }
    }

    @FunctionalInterface
    private interface LineConsumer {
        void accept(int lineNo, JsonNode root);
    }

    private static EncodedPair pair(Path file, int lineNo, JsonNode root, PairEncoder encoder) {
        String prompt = text(file, lineNo, root, "prompt");
        String chosen = text(file, lineNo, root, "chosen");
        String rejected = text(file, lineNo, root, "rejected");
        JsonNode idNode = root.get("id");
        String id = idNode != null && idNode.isTextual() ? idNode.asText() : "line-" + lineNo;
        EncodedPair p;
        try {
            p = encoder.encode(id, prompt, chosen, rejected);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + " line " + lineNo + ": " + e.getMessage(), e);
        }
        JsonNode flipped = root.get("flipped");
        return new EncodedPair(id, p.conversation(), p.chosen(), p.rejected(), number(root, "chosen_gold"),
                number(root, "rejected_gold"), flipped != null && flipped.isBoolean() ? flipped.asBoolean() : null);
    }

    private static String text(Path file, int lineNo, JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || !node.isTextual()) {
            throw new IllegalArgumentException(file + " line " + lineNo + ": field '" + field + "' "
                    + (node == null ? "is missing" : "is not text") + "; each line needs prompt, chosen and rejected"
                    + " texts");
        }
        return node.asText();
    }

    private static double number(JsonNode root, String field) {
        JsonNode node = root.get(field);
        return node != null && node.isNumber() ? node.asDouble() : Double.NaN;
    }
}
