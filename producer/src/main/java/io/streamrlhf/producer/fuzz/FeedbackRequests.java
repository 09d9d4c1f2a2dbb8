package io.streamrlhf.producer.fuzz;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/**
 * Requests to the feedback API ({@code POST /api/feedback} and its neighbours), valid and hostile. The server must
 * answer each with a 2xx or a 4xx whose JSON body names the problem, store exactly the labels it accepted, and stay
 * up. Hostile bodies start from a valid label, so each damage is one step away from something the server accepts.
 */
public final class FeedbackRequests {

    /** What kind of request. */
    public enum Kind {
        /** A valid label of a random kind (pairwise, rating, best_of_n), by ids or inline texts. */
        VALID,
        /** A valid label's bytes damaged: truncated, bits flipped, garbage inserted, bad UTF-8, trailing tokens. */
        MALFORMED_JSON,
        /** One field of a valid label given a value of another JSON type. */
        WRONG_TYPES,
        /**
         * One field given a hostile value of the right type or none: NaN and infinities, huge and negative numbers,
         * odd unicode, very long strings, huge arrays, deep nesting, unknown fields, nulls.
         */
        HOSTILE_VALUES,
        /** A body over the server's size limit (up to 10 MB), sent with its length or chunked. */
        HUGE_BODY,
        /** A valid label with a wrong or missing Content-Type. */
        WRONG_CONTENT_TYPE,
        /** Another method, or a route that does not exist. */
        WRONG_ROUTE
    }

    /**
     * One request.
     *
     * @param kind        what kind it is
     * @param method      HTTP method
     * @param path        request path
     * @param contentType Content-Type header, or null for none
     * @param body        the body (empty for none)
     * @param chunked     send without a Content-Length (chunked), so the server must count the bytes itself
     * @param feedbackId  the label's {@code feedback_id} where the body carries one intact, else null
     */
    public record Request(Kind kind, String method, String path, String contentType, byte[] body, boolean chunked,
                          String feedbackId) {
        /** A one-line description for a failure report (the body abbreviated). */
        public String describe() {
            String text = new String(body, 0, Math.min(body.length, 160), StandardCharsets.UTF_8);
            return kind + " " + method + " " + path + " (" + (contentType == null ? "no content type" : contentType)
                    + ", " + body.length + " bytes" + (chunked ? ", chunked" : "") + "): " + text
                    + (body.length > 160 ? "..." : "");
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String[] FIELDS = {"kind", "prompt_id", "generation_ids", "conversation", "texts",
        "preferred_index", "rating", "confidence", "annotator_id", "comment", "feedback_id", "source"};
    /** Strings that have broken parsers, encoders and terminals elsewhere. */
    private static final String[] ODD_TEXT = {"", " ", "\u0000", "\uFEFF", "\u202Eevil", "\uD83D\uDE00\u0301",
        "\uD800", "\uDFFF", "e\u0301\u0301\u0301", "\r\n\r\n", "%s%n%x", "${jndi:ldap://x}", "'; DROP TABLE --",
        "\u00e9\u4e2d\u0627\u05d0", "\\u0000", "<script>alert(1)</script>"};

    private final int maxBodyBytes;

    /** @param maxBodyBytes the server's body limit, so huge bodies are sure to exceed it */
    public FeedbackRequests(int maxBodyBytes) {
        this.maxBodyBytes = maxBodyBytes;
    }

    /** A request of a random kind; valid ones about a third of the time. */
    public Request next(Random random) {
        Kind kind = random.nextInt(3) == 0 ? Kind.VALID : Kind.values()[1 + random.nextInt(Kind.values().length - 1)];
        return next(kind, random);
    }

    /** A request of {@code kind}. */
    public Request next(Kind kind, Random random) {
        ObjectNode label = validLabel(random);
        String id = label.get("feedback_id").asText();
        return switch (kind) {
            case VALID -> post(kind, bytes(label), false, id);
            case MALFORMED_JSON -> post(kind, malformed(bytes(label), random), false, null);
            case WRONG_TYPES -> {
                String field = FIELDS[random.nextInt(FIELDS.length)];
                label.set(field, wrongType(label.get(field), random));
                yield post(kind, bytes(label), false, null);
            }
            case HOSTILE_VALUES -> post(kind, hostile(label, random), random.nextInt(4) == 0, null);
            case HUGE_BODY -> {
                int size = maxBodyBytes + 1 + random.nextInt(Math.max(1, 10_000_000 - maxBodyBytes));
                label.put("comment", "x".repeat(size));
                yield post(kind, bytes(label), random.nextBoolean(), null);
            }
            case WRONG_CONTENT_TYPE -> {
                String[] types = {null, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                    "application/jsonx", "", "application/xml"};
                String type = types[random.nextInt(types.length)];
                yield new Request(kind, "POST", "/api/feedback", type != null && type.equals("application/jsonx")
                        ? "text/json" : type, bytes(label), false, null);
            }
            case WRONG_ROUTE -> {
                String[] methods = {"GET", "PUT", "DELETE", "PATCH", "OPTIONS"};
                String[] paths = {"/api/feedback", "/api/feedback/", "/api", "/api/pairs", "/admin", "/../etc/passwd",
                    "/api/feedback%00", "/" + "a".repeat(2000)};
                String path = paths[random.nextInt(paths.length)];
                String method = path.equals("/api/feedback") ? methods[random.nextInt(methods.length)]
                        : random.nextBoolean() ? "POST" : "GET";
                yield new Request(kind, method, path, "application/json", method.equals("GET") ? new byte[0]
                        : bytes(label), false, null);
            }
        };
    }

    /** A valid label with a fresh {@code feedback_id}. */
    public static ObjectNode validLabel(Random random) {
        ObjectNode label = NODES.objectNode();
        int kind = random.nextInt(3);
        int candidates = kind == 0 ? 2 : kind == 1 ? 1 : 2 + random.nextInt(6);
        label.put("kind", kind == 0 ? "pairwise" : kind == 1 ? "rating" : "best_of_n");
        label.put("prompt_id", "p-" + random.nextInt(1000));
        if (random.nextBoolean()) {
            ArrayNode ids = label.putArray("generation_ids");
            for (int i = 0; i < candidates; i++) {
                ids.add(uuid(random));
            }
        } else {
            ArrayNode turns = label.putArray("conversation");
            turns.addObject().put("role", "user").put("content", "What is " + random.nextInt(100) + " + 1?");
            ArrayNode texts = label.putArray("texts");
            for (int i = 0; i < candidates; i++) {
                texts.add("answer " + random.nextInt(1000));
            }
        }
        if (kind == 1) {
            label.put("rating", random.nextInt(11) / 2.0);
        } else {
            label.put("preferred_index", random.nextInt(candidates));
        }
        if (random.nextBoolean()) {
            label.put("confidence", random.nextInt(101) / 100.0);
        }
        if (random.nextBoolean()) {
            label.put("comment", "fine");
        }
        label.put("annotator_id", "fuzz-" + random.nextInt(8));
        label.put("feedback_id", uuid(random));
        return label;
    }

    private static String uuid(Random random) {
        return new UUID(random.nextLong(), random.nextLong()).toString();
    }

    private Request post(Kind kind, byte[] body, boolean chunked, String feedbackId) {
        return new Request(kind, "POST", "/api/feedback", "application/json", body, chunked, feedbackId);
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] malformed(byte[] valid, Random random) {
        switch (random.nextInt(7)) {
            case 0 -> {
                return Arrays.copyOf(valid, random.nextInt(valid.length));
            }
            case 1 -> {
                byte[] out = valid.clone();
                for (int i = 0, n = 1 + random.nextInt(6); i < n; i++) {
                    int bit = random.nextInt(out.length * 8);
                    out[bit / 8] ^= (byte) (1 << (bit % 8));
                }
                return out;
            }
            case 2 -> {
                String[] junk = {"{", "}", "[", "]", ",", ":", "\"", "\\", "nul", "tru", "/*", "'", "\u0000", "NaN"};
                String text = new String(valid, StandardCharsets.UTF_8);
                int at = random.nextInt(text.length() + 1);
                return (text.substring(0, at) + junk[random.nextInt(junk.length)] + text.substring(at))
                        .getBytes(StandardCharsets.UTF_8);
            }
            case 3 -> {
                // Bytes that are not UTF-8: a lone continuation byte, an overlong slash, a truncated sequence.
                byte[][] bad = {{(byte) 0x80}, {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xE2, (byte) 0x82}, {(byte) 0xFF}};
                byte[] insert = bad[random.nextInt(bad.length)];
                int at = 1 + random.nextInt(valid.length - 1);
                byte[] out = new byte[valid.length + insert.length];
                System.arraycopy(valid, 0, out, 0, at);
                System.arraycopy(insert, 0, out, at, insert.length);
                System.arraycopy(valid, at, out, at + insert.length, valid.length - at);
                return out;
            }
            case 4 -> {
                String[] trailing = {"{}", " 1", "]", " x", "\n{\"kind\":\"rating\"}"};
                return (new String(valid, StandardCharsets.UTF_8) + trailing[random.nextInt(trailing.length)])
                        .getBytes(StandardCharsets.UTF_8);
            }
            case 5 -> {
                String[] whole = {"", " ", "null", "[]", "42", "\"label\"", "true", "{\"kind\":}", "{,}", "\uFEFF{}"};
                return whole[random.nextInt(whole.length)].getBytes(StandardCharsets.UTF_8);
            }
            default -> {
                byte[] out = new byte[random.nextInt(512)];
                random.nextBytes(out);
                return out;
            }
        }
    }

    private static JsonNode wrongType(JsonNode current, Random random) {
        List<JsonNode> options = new ArrayList<>(List.of(NODES.numberNode(random.nextInt()), NODES.textNode("7"),
                NODES.booleanNode(random.nextBoolean()), NODES.nullNode(), NODES.objectNode().put("a", 1),
                NODES.arrayNode().add(1).add("two"), NODES.numberNode(1.5)));
        if (current != null) {
            options.removeIf(o -> o.getNodeType() == current.getNodeType() && !o.isNull());
        }
        return options.get(random.nextInt(options.size()));
    }

    private static byte[] hostile(ObjectNode label, Random random) {
        String field = FIELDS[random.nextInt(FIELDS.length)];
        String text = new String(bytes(label), StandardCharsets.UTF_8);
        switch (random.nextInt(9)) {
            case 0 -> {
                // Numbers Jackson reads by default but JSON does not have, and ones no double or int holds.
                String[] numbers = {"NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "-0",
                    "99999999999999999999999999", "-2147483649", "2147483648", "0.1e99999999"};
                String number = numbers[random.nextInt(numbers.length)];
                String[] numeric = {"rating", "confidence", "preferred_index"};
                return replaceField(text, numeric[random.nextInt(numeric.length)], number);
            }
            case 1 -> label.put(field, ODD_TEXT[random.nextInt(ODD_TEXT.length)]);
            case 2 -> label.put(field, "\uD83D\uDE00".repeat(1 + random.nextInt(20_000)));
            case 3 -> {
                ArrayNode huge = label.putArray(random.nextBoolean() ? "generation_ids" : "texts");
                for (int i = 0, n = random.nextInt(3) == 0 ? 0 : 65 + random.nextInt(5_000); i < n; i++) {
                    huge.add(random.nextBoolean() ? uuid(random) : "t" + i);
                }
            }
            case 4 -> {
                // Nesting deeper than any parser should follow.
                int depth = 100 + random.nextInt(20_000);
                return replaceField(text, field, "[".repeat(depth) + "]".repeat(depth));
            }
            case 5 -> label.put("unknown_" + random.nextInt(100), 1);
            case 6 -> label.putNull(field);
            case 7 -> {
                ArrayNode turns = label.putArray("conversation");
                String[] roles = {"user", "robot", "", "USER", "system"};
                turns.addObject().put("role", roles[random.nextInt(roles.length)])
                        .put("content", ODD_TEXT[random.nextInt(ODD_TEXT.length)]);
            }
            default -> label.put("preferred_index", random.nextBoolean() ? -1 : 1 + random.nextInt(100));
        }
        return bytes(label);
    }

    /** The label's JSON with {@code field} set to {@code raw} (JSON text inserted as it is). */
    private static byte[] replaceField(String json, String field, String raw) {
        // A field written last wins in Jackson's tree; the parser refuses duplicates only where it is strict.
        String body = json.substring(0, json.length() - 1) + ",\"" + field + "\":" + raw + "}";
        return body.getBytes(StandardCharsets.UTF_8);
    }
}
