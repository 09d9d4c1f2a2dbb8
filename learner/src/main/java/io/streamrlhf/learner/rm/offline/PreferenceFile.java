package io.streamrlhf.learner.rm.offline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.learner.rm.EncodedPair;
import io.streamrlhf.learner.rm.PairEncoder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                out.add(pair(file, lineNo, line, encoder));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read preference file " + file, e);
        }
        return out;
    }

    private static EncodedPair pair(Path file, int lineNo, String line, PairEncoder encoder) {
        JsonNode root;
        try {
            root = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + " line " + lineNo + ": not JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(file + " line " + lineNo + ": not a JSON object");
        }
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
