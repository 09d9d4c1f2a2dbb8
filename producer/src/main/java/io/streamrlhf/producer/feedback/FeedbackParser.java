package io.streamrlhf.producer.feedback;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.producer.feed.UnpairedSurrogates;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackKind;
import io.streamrlhf.schemas.avro.FeedbackSource;
import io.streamrlhf.schemas.avro.PairVerdict;
import io.streamrlhf.schemas.avro.Role;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The one JSON format of a feedback label (HTTP API, rater page and {@code feedback import}) and its validation.
 *
 * <pre>{@code
 * {"kind": "pairwise",                       // or "rating", "best_of_n"
 *  "prompt_id": "p-17",
 *  "generation_ids": ["<uuid>", "<uuid>"],   // or inline: "conversation": [{"role","content"}], "texts": [...]
 *  "preferred_index": 1,                     // pairwise, best_of_n
 *  "verdict": "tie",                         // pairwise only, optional: preferred (default), tie or both_bad;
 *                                            //   tie and both_bad take no preferred_index
 *  "rating": 4.5,                            // rating only
 *  "annotator_id": "alice",
 *  "confidence": 0.8, "comment": "...", "feedback_id": "...", "source": "human"}   // optional
 * }</pre>
 *
 * Candidates: pairwise exactly 2, rating exactly 1, best_of_n 2 to {@value #MAX_CANDIDATES}. Generation ids are
 * the workers' UUIDs. {@code source} is {@code human} unless given ({@code simulated}, {@code ai_judge}). Unknown
 * fields are refused (typos would otherwise lose data silently). Every problem is a
 * {@link FeedbackValidationException} naming the field.
 */
public final class FeedbackParser {

    /** Most candidates of a best-of-n label. */
    public static final int MAX_CANDIDATES = 64;
    /** Longest id (prompt, feedback, annotator) accepted. */
    public static final int MAX_ID_CHARS = 200;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Pattern UUID_FORMAT =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final Set<String> FIELDS = Set.of("kind", "prompt_id", "generation_ids", "conversation", "texts",
            "preferred_index", "rating", "confidence", "annotator_id", "comment", "feedback_id", "source", "verdict");

    private final Clock clock;

    /** A parser stamping records with {@code clock}. */
    public FeedbackParser(Clock clock) {
        this.clock = clock;
    }

    /** A parser using the system clock. */
    public FeedbackParser() {
        this(Clock.systemUTC());
    }

    /**
     * Says what is wrong with a JSON text, and where when the parser knows: a text that breaks one of the parser's
     * limits (nesting depth, number or string length) has no location.
     */
    static String malformed(JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        return "malformed JSON: " + e.getOriginalMessage() + (at == null ? ""
                : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")");
    }

    /** Parses and validates one JSON text. */
    public Feedback parse(String json) {
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new FeedbackValidationException(null, malformed(e));
        }
        if (node == null || node.isMissingNode()) {
            throw new FeedbackValidationException(null, "empty body: expected a JSON object");
        }
        return parse(node);
    }

    /** Validates one parsed JSON object. */
    public Feedback parse(JsonNode node) {
        if (!node.isObject()) {
            throw new FeedbackValidationException(null, "expected a JSON object, got " + kind(node));
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw new FeedbackValidationException(f, "unknown field '" + f + "'; known fields: "
                        + FIELDS.stream().sorted().toList());
            }
        }
        Optional<String> notText = UnpairedSurrogates.find(node);
        if (notText.isPresent()) {
            String field = notText.get();
            throw new FeedbackValidationException(field, "'" + field + "' is not valid Unicode: it holds an unpaired "
                    + "surrogate (a lone \\uD800-\\uDFFF escape), which could not be stored as it was sent");
        }
        FeedbackKind kind = kindOf(node);
        String promptId = id(node, "prompt_id", true);
        boolean byId = node.has("generation_ids");
        boolean inline = node.has("texts");
        if (byId == inline) {
            throw new FeedbackValidationException(byId ? "texts" : "generation_ids", byId
                    ? "give either 'generation_ids' or 'texts', not both"
                    : "missing field 'generation_ids' (or 'texts' with 'conversation' for inline responses)");
        }
        List<String> ids = byId ? generationIds(node.get("generation_ids")) : List.of();
        List<String> texts = inline ? texts(node.get("texts")) : List.of();
        List<ConversationTurn> conversation = List.of();
        if (inline) {
            if (!node.has("conversation")) {
                throw new FeedbackValidationException("conversation",
                        "missing field 'conversation': inline 'texts' need the prompt they answer");
            }
            conversation = conversation(node.get("conversation"));
        } else if (node.has("conversation")) {
            throw new FeedbackValidationException("conversation",
                    "'conversation' goes with inline 'texts'; candidates given by 'generation_ids' carry their prompt");
        }
        String candidatesField = byId ? "generation_ids" : "texts";
        int n = byId ? ids.size() : texts.size();
        checkCount(kind, n, candidatesField);

        Integer preferred = null;
        Double rating = null;
        PairVerdict verdict = verdictOf(node, kind);
        if (verdict == PairVerdict.TIE || verdict == PairVerdict.BOTH_BAD) {
            if (node.has("preferred_index")) {
                throw new FeedbackValidationException("preferred_index", "a verdict of '"
                        + verdict.name().toLowerCase(Locale.ROOT) + "' prefers neither candidate; leave out "
                        + "'preferred_index'");
            }
            if (node.has("rating")) {
                throw new FeedbackValidationException("rating", "'rating' belongs to kind rating only");
            }
        } else if (kind == FeedbackKind.RATING) {
            if (node.has("preferred_index")) {
                throw new FeedbackValidationException("preferred_index", "a rating has no 'preferred_index'");
            }
            JsonNode r = node.get("rating");
            if (r == null || r.isNull()) {
                throw new FeedbackValidationException("rating", "missing field 'rating' (a number) for kind rating");
            }
            if (!r.isNumber() || !Double.isFinite(r.asDouble())) {
                throw new FeedbackValidationException("rating", "'rating' must be a finite number, got " + r);
            }
            rating = r.asDouble();
        } else {
            if (node.has("rating")) {
                throw new FeedbackValidationException("rating", "'rating' belongs to kind rating only");
            }
            JsonNode p = node.get("preferred_index");
            if (p == null || p.isNull()) {
                throw new FeedbackValidationException("preferred_index",
                        "missing field 'preferred_index' (index of the preferred candidate)");
            }
            if (!p.isIntegralNumber() || p.asInt() < 0 || p.asInt() >= n) {
                throw new FeedbackValidationException("preferred_index", "'preferred_index' must be an integer in 0.."
                        + (n - 1) + " (an index into '" + candidatesField + "'), got " + p);
            }
            preferred = p.asInt();
        }
        Double confidence = null;
        JsonNode c = node.get("confidence");
        if (c != null && !c.isNull()) {
            if (!c.isNumber() || !(c.asDouble() >= 0 && c.asDouble() <= 1)) {
                throw new FeedbackValidationException("confidence", "'confidence' must be a number in [0, 1], got " + c);
            }
            confidence = c.asDouble();
        }
        String annotator = id(node, "annotator_id", true);
        String feedbackId = id(node, "feedback_id", false);
        String comment = text(node, "comment");
        if (comment != null && comment.length() > 10_000) {
            throw new FeedbackValidationException("comment", "'comment' is longer than 10000 characters");
        }
        return Feedback.newBuilder()
                .setFeedbackId(feedbackId != null ? feedbackId : UUID.randomUUID().toString())
                .setPromptId(promptId).setKind(kind).setGenerationIds(ids).setConversation(conversation)
                .setTexts(texts).setPreferredIndex(preferred).setRating(rating).setConfidence(confidence)
                .setAnnotatorId(annotator).setSource(sourceOf(node)).setComment(comment)
                .setCreatedAt(clock.instant()).setVerdict(verdict).build();
    }

    private static FeedbackKind kindOf(JsonNode node) {
        String k = text(node, "kind");
        if (k == null) {
            throw new FeedbackValidationException("kind", "missing field 'kind' (pairwise, rating or best_of_n)");
        }
        return switch (k.toLowerCase(Locale.ROOT).replace('-', '_')) {
            case "pairwise" -> FeedbackKind.PAIRWISE;
            case "rating" -> FeedbackKind.RATING;
            case "best_of_n", "bon" -> FeedbackKind.BEST_OF_N;
            default -> throw new FeedbackValidationException("kind", "unknown kind '" + k
                    + "'; expected pairwise, rating or best_of_n");
        };
    }

    /** The pairwise verdict: null when not given (a preference), refused for the other kinds. */
    private static PairVerdict verdictOf(JsonNode node, FeedbackKind kind) {
        String v = text(node, "verdict");
        if (v == null) {
            return null;
        }
        if (kind != FeedbackKind.PAIRWISE) {
            throw new FeedbackValidationException("verdict", "'verdict' belongs to kind pairwise only");
        }
        return switch (v.toLowerCase(Locale.ROOT).replace('-', '_')) {
            case "preferred" -> PairVerdict.PREFERRED;
            case "tie" -> PairVerdict.TIE;
            case "both_bad" -> PairVerdict.BOTH_BAD;
            default -> throw new FeedbackValidationException("verdict", "unknown verdict '" + v
                    + "'; expected preferred, tie or both_bad");
        };
    }

    private static FeedbackSource sourceOf(JsonNode node) {
        String s = text(node, "source");
        if (s == null) {
            return FeedbackSource.HUMAN;
        }
        return switch (s.toLowerCase(Locale.ROOT).replace('-', '_')) {
            case "human" -> FeedbackSource.HUMAN;
            case "simulated" -> FeedbackSource.SIMULATED;
            case "ai_judge" -> FeedbackSource.AI_JUDGE;
            default -> throw new FeedbackValidationException("source", "unknown source '" + s
                    + "'; expected human, simulated or ai_judge");
        };
    }

    private static void checkCount(FeedbackKind kind, int n, String field) {
        switch (kind) {
            case PAIRWISE -> {
                if (n != 2) {
                    throw new FeedbackValidationException(field, "a pairwise label needs exactly 2 candidates in '"
                            + field + "', got " + n);
                }
            }
            case RATING -> {
                if (n != 1) {
                    throw new FeedbackValidationException(field, "a rating needs exactly 1 candidate in '" + field
                            + "', got " + n);
                }
            }
            default -> {
                if (n < 2 || n > MAX_CANDIDATES) {
                    throw new FeedbackValidationException(field, "a best_of_n label needs 2.." + MAX_CANDIDATES
                            + " candidates in '" + field + "', got " + n);
                }
            }
        }
    }

    private static List<String> generationIds(JsonNode array) {
        if (!array.isArray()) {
            throw new FeedbackValidationException("generation_ids", "'generation_ids' must be an array of strings, got "
                    + kind(array));
        }
        List<String> ids = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < array.size(); i++) {
            JsonNode v = array.get(i);
            String at = "generation_ids[" + i + "]";
            if (!v.isTextual()) {
                throw new FeedbackValidationException(at, "'" + at + "' must be a string, got " + kind(v));
            }
            if (!UUID_FORMAT.matcher(v.asText()).matches()) {
                throw new FeedbackValidationException(at, "'" + at + "' is '" + abbreviate(v.asText())
                        + "', not a generation id (generation ids are UUIDs, e.g. 3f2b8c1e-0a4d-3c55-9e0f-12ab34cd56ef)");
            }
            String id = v.asText().toLowerCase(Locale.ROOT);
            if (!seen.add(id)) {
                throw new FeedbackValidationException(at, "'" + at + "' repeats generation id " + id);
            }
            ids.add(id);
        }
        return ids;
    }

    private static List<String> texts(JsonNode array) {
        if (!array.isArray()) {
            throw new FeedbackValidationException("texts", "'texts' must be an array of strings, got " + kind(array));
        }
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            JsonNode v = array.get(i);
            if (!v.isTextual()) {
                throw new FeedbackValidationException("texts[" + i + "]", "'texts[" + i + "]' must be a string, got "
                        + kind(v));
            }
            texts.add(v.asText());
        }
        return texts;
    }

    private static List<ConversationTurn> conversation(JsonNode array) {
        if (!array.isArray() || array.isEmpty()) {
            throw new FeedbackValidationException("conversation",
                    "'conversation' must be a non-empty array of {\"role\", \"content\"} turns");
        }
        List<ConversationTurn> turns = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            JsonNode t = array.get(i);
            String at = "conversation[" + i + "]";
            if (!t.isObject() || !t.path("role").isTextual() || !t.path("content").isTextual()) {
                throw new FeedbackValidationException(at, "'" + at + "' must be {\"role\": ..., \"content\": ...}");
            }
            Role role;
            try {
                role = Role.valueOf(t.get("role").asText().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                role = Role.UNKNOWN;
            }
            if (role == Role.UNKNOWN) {
                throw new FeedbackValidationException(at + ".role", "'" + at + ".role' is '" + t.get("role").asText()
                        + "'; expected user, assistant or system");
            }
            turns.add(new ConversationTurn(role, t.get("content").asText()));
        }
        return turns;
    }

    private static String id(JsonNode node, String field, boolean required) {
        String v = text(node, field);
        if (v == null || v.isBlank()) {
            if (required) {
                throw new FeedbackValidationException(field, "missing field '" + field + "' (a non-empty string)");
            }
            return null;
        }
        if (v.length() > MAX_ID_CHARS) {
            throw new FeedbackValidationException(field, "'" + field + "' is longer than " + MAX_ID_CHARS
                    + " characters");
        }
        return v;
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new FeedbackValidationException(field, "'" + field + "' must be a string, got " + kind(v));
        }
        return v.asText();
    }

    private static String kind(JsonNode node) {
        return node == null ? "nothing" : node.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "...";
    }
}
