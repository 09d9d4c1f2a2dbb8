package io.streamrlhf.producer.feed;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.avro.Role;
import io.streamrlhf.schemas.jsonl.JsonlLines;
import io.streamrlhf.schemas.verify.VerifierSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Reads prompts from files, validating every one and naming the file and line (or record) of each problem.
 *
 * <p><b>JSONL</b> ({@code rlhf prompts send --file}): one JSON object per line, blank lines skipped. Fields:
 * <ul>
 *   <li>{@code conversation}: a non-empty array of {@code {"role": "user"|"assistant"|"system", "content": "..."}}
 *       (RMB's {@code conversation_input} is accepted under that name too), or {@code prompt}: a string, taken as
 *       one user turn;</li>
 *   <li>optional {@code prompt_id} (default: a UUID derived from the file name, line and content),
 *       {@code category}, {@code samples_per_prompt} (1..1024), {@code metadata} (an object of strings);</li>
 *   <li>optional {@code reference_answers}: one answer or an array of them, each a string, a number (kept as
 *       written) or a JSON object (kept as JSON text: a JSON schema for the {@code json-schema} verifier), and
 *       {@code verifier}: a verifier spec such as {@code numeric;tolerance=0.01;extract=boxed}
 *       ({@link VerifierSpec}).</li>
 * </ul>
 * Any other field is a problem (it is most likely a typo).
 *
 * <p><b>RMB</b> ({@code --rmb DIR}): every {@code *.json} file under the folder (or the one file given), each an
 * array of RMB records; the prompt is the record's {@code conversation_input}, its id {@code rmb-<pair_uid>} or
 * {@code rmb-<bon_uid>}, its category the record's {@code category_path}, and the uid and file travel in the
 * metadata.
 */
public final class PromptFiles {

    /** Most samples a prompt may ask for. */
    public static final int MAX_SAMPLES = 1024;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Set<String> JSONL_FIELDS = Set.of("prompt_id", "conversation", "conversation_input",
            "prompt", "category", "samples_per_prompt", "metadata", "reference_answers", "verifier");

    private PromptFiles() {
    }

    /**
     * Reads a JSONL file.
     *
     * @param samplesPerPrompt used where a line gives no {@code samples_per_prompt}
     */
    public static PromptBatch readJsonl(Path file, int samplesPerPrompt) {
        List<Prompt> prompts = new ArrayList<>();
        List<PromptProblem> problems = new ArrayList<>();
        String source = file.toString();
        try {
            int lines = JsonlLines.forEach(file, line -> {
                String where = "line " + line.number();
                if (line.problem() != null) {
                    problems.add(new PromptProblem(source, where, line.problem()));
                    return;
                }
                if (line.isBlank()) {
                    return;
                }
                try {
                    JsonNode node = JSON.readTree(line.text());
                    prompts.add(fromJsonl(node, file, line.number(), samplesPerPrompt, line.text()));
                } catch (JsonProcessingException e) {
                    problems.add(new PromptProblem(source, where, "not valid JSON: " + e.getOriginalMessage()));
                } catch (IllegalArgumentException e) {
                    problems.add(new PromptProblem(source, where, e.getMessage()));
                }
            });
            if (lines == 0) {
                problems.add(new PromptProblem(source, "line 1", "the file is empty"));
            }
        } catch (IOException e) {
            problems.add(new PromptProblem(source, "file", "cannot be read: " + e.getMessage()));
        }
        return new PromptBatch(prompts, problems);
    }

    /**
     * Reads RMB JSON files: {@code path} is one file or a folder searched recursively for {@code *.json}.
     *
     * @param samplesPerPrompt samples asked for each prompt
     */
    public static PromptBatch readRmb(Path path, int samplesPerPrompt) {
        List<Prompt> prompts = new ArrayList<>();
        List<PromptProblem> problems = new ArrayList<>();
        List<Path> files;
        if (Files.isDirectory(path)) {
            try (Stream<Path> walk = Files.walk(path)) {
                files = walk.filter(p -> Files.isRegularFile(p) && p.toString().endsWith(".json")).sorted().toList();
            } catch (IOException e) {
                return new PromptBatch(List.of(), List.of(new PromptProblem(path.toString(), "folder",
                        "cannot be listed: " + e.getMessage())));
            }
            if (files.isEmpty()) {
                problems.add(new PromptProblem(path.toString(), "folder", "holds no *.json files"));
            }
        } else {
            files = List.of(path);
        }
        for (Path file : files) {
            String source = file.toString();
            String relative = Files.isDirectory(path) ? path.relativize(file).toString() : file.getFileName().toString();
            JsonNode root;
            try {
                root = JSON.readTree(file.toFile());
            } catch (IOException e) {
                problems.add(new PromptProblem(source, "file", "not valid JSON: " + e.getMessage()));
                continue;
            }
            if (root == null || !root.isArray()) {
                problems.add(new PromptProblem(source, "file", "expected a JSON array of RMB records"));
                continue;
            }
            for (int i = 0; i < root.size(); i++) {
                try {
                    prompts.add(fromRmb(root.get(i), relative, i, samplesPerPrompt));
                } catch (IllegalArgumentException e) {
                    problems.add(new PromptProblem(source, "record " + (i + 1), e.getMessage()));
                }
            }
        }
        return new PromptBatch(prompts, problems);
    }

    private static Prompt fromJsonl(JsonNode node, Path file, int line, int samples, String raw) {
        if (!node.isObject()) {
            throw new IllegalArgumentException("expected a JSON object, got " + kind(node));
        }
        UnpairedSurrogates.find(node).ifPresent(field -> {
            throw new IllegalArgumentException("field '" + field + "' is not valid Unicode: it holds an unpaired "
                    + "surrogate (a lone \\uD800-\\uDFFF escape)");
        });
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!JSONL_FIELDS.contains(field)) {
                throw new IllegalArgumentException("unknown field '" + field + "' (known: " + JSONL_FIELDS + ")");
            }
        }
        List<ConversationTurn> conversation;
        int given = (node.has("conversation") ? 1 : 0) + (node.has("conversation_input") ? 1 : 0)
                + (node.has("prompt") ? 1 : 0);
        if (given != 1) {
            throw new IllegalArgumentException(given == 0
                    ? "missing field 'conversation' (or 'prompt' for a single user turn)"
                    : "give only one of 'conversation', 'conversation_input' and 'prompt'");
        }
        if (node.has("prompt")) {
            JsonNode p = node.get("prompt");
            if (!p.isTextual() || p.asText().isBlank()) {
                throw new IllegalArgumentException("field 'prompt' must be a non-empty string");
            }
            conversation = List.of(new ConversationTurn(Role.USER, p.asText()));
        } else {
            String name = node.has("conversation") ? "conversation" : "conversation_input";
            conversation = conversation(node.get(name), name);
        }
        String id = optionalText(node, "prompt_id");
        if (id == null) {
            id = UUID.nameUUIDFromBytes((file.getFileName() + "\n" + line + "\n" + raw)
                    .getBytes(StandardCharsets.UTF_8)).toString();
        }
        int k = samples;
        if (node.has("samples_per_prompt")) {
            JsonNode s = node.get("samples_per_prompt");
            if (!s.isIntegralNumber() || s.asInt() < 1 || s.asInt() > MAX_SAMPLES) {
                throw new IllegalArgumentException("field 'samples_per_prompt' must be an integer in 1.." + MAX_SAMPLES
                        + ", got " + s);
            }
            k = s.asInt();
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        if (node.has("metadata")) {
            JsonNode m = node.get("metadata");
            if (!m.isObject()) {
                throw new IllegalArgumentException("field 'metadata' must be an object of strings, got " + kind(m));
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = m.properties().iterator(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                    throw new IllegalArgumentException("field 'metadata." + e.getKey() + "' must be a string, got "
                            + kind(e.getValue()));
                }
                metadata.put(e.getKey(), e.getValue().asText());
            }
        }
        String verifier = optionalText(node, "verifier");
        if (verifier != null) {
            try {
                VerifierSpec.parse(verifier);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("field 'verifier': " + e.getMessage());
            }
        }
        return Prompt.newBuilder().setPromptId(id).setConversation(conversation)
                .setCategory(optionalText(node, "category")).setSamplesPerPrompt(k)
                .setSource("jsonl:" + file.getFileName()).setMetadata(metadata)
                .setReferenceAnswers(referenceAnswers(node.get("reference_answers"))).setVerifier(verifier)
                .setCreatedAt(Instant.now()).build();
    }

    /** The {@code reference_answers} field: absent, one answer, or an array of answers. */
    private static List<String> referenceAnswers(JsonNode node) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                out.add(answer(node.get(i), "reference_answers[" + i + "]"));
            }
        } else {
            out.add(answer(node, "reference_answers"));
        }
        return out;
    }

    private static String answer(JsonNode node, String where) {
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isNumber()) {
            return node.toString();
        }
        if (node.isObject()) {
            return node.toString();
        }
        throw new IllegalArgumentException("field '" + where + "' must be a string, a number or a JSON object, got "
                + kind(node));
    }

    private static Prompt fromRmb(JsonNode node, String file, int index, int samples) {
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("expected an RMB record (a JSON object), got " + kind(node));
        }
        if (!node.has("conversation_input")) {
            throw new IllegalArgumentException("missing field 'conversation_input'");
        }
        List<ConversationTurn> conversation = conversation(node.get("conversation_input"), "conversation_input");
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("rmb_file", file);
        String uid = null;
        for (String key : List.of("pair_uid", "bon_uid")) {
            if (node.hasNonNull(key)) {
                uid = node.get(key).asText();
                metadata.put(key, uid);
            }
        }
        String category = optionalText(node, "category_path");
        if (category != null) {
            int slash = category.indexOf('/');
            metadata.put("goal", slash > 0 ? category.substring(0, slash) : category);
        }
        String id = uid != null ? "rmb-" + uid : "rmb-" + file.replace('/', '_') + "-" + (index + 1);
        return Prompt.newBuilder().setPromptId(id).setConversation(conversation).setCategory(category)
                .setSamplesPerPrompt(samples).setSource("rmb:" + file).setMetadata(metadata)
                .setCreatedAt(Instant.now()).build();
    }

    private static List<ConversationTurn> conversation(JsonNode array, String field) {
        if (array == null || !array.isArray()) {
            throw new IllegalArgumentException("field '" + field + "' must be an array of turns, got " + kind(array));
        }
        if (array.isEmpty()) {
            throw new IllegalArgumentException("field '" + field + "' is empty");
        }
        List<ConversationTurn> turns = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            JsonNode turn = array.get(i);
            String at = field + "[" + i + "]";
            if (!turn.isObject()) {
                throw new IllegalArgumentException("'" + at + "' must be an object with role and content");
            }
            JsonNode role = turn.get("role");
            JsonNode content = turn.get("content");
            if (role == null || !role.isTextual()) {
                throw new IllegalArgumentException("'" + at + ".role' is missing or not a string");
            }
            if (content == null || !content.isTextual()) {
                throw new IllegalArgumentException("'" + at + ".content' is missing or not a string");
            }
            turns.add(new ConversationTurn(role(role.asText(), at), content.asText()));
        }
        return turns;
    }

    private static Role role(String text, String at) {
        try {
            Role r = Role.valueOf(text.trim().toUpperCase(Locale.ROOT));
            if (r != Role.UNKNOWN) {
                return r;
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw new IllegalArgumentException("'" + at + ".role' is '" + text + "'; expected user, assistant or system");
    }

    private static String optionalText(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException("field '" + field + "' must be a string, got " + kind(v));
        }
        return v.asText();
    }

    private static String kind(JsonNode node) {
        return node == null ? "nothing" : node.getNodeType().name().toLowerCase(Locale.ROOT);
    }
}
