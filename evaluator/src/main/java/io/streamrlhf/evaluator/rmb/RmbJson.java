package io.streamrlhf.evaluator.rmb;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * RMB's JSON record format, both ways: a pairwise record ({@code pair_uid}, {@code conversation_input},
 * {@code chosen}, {@code reject}, {@code category_path}) or a Best-of-N record ({@code bon_uid},
 * {@code conversation_input}, {@code bon_best}, {@code loser_list}, {@code category_path}). The shape is told by the
 * uid field. {@link #write} and {@link #parse(byte[], String)} are what the evaluation topic carries, so a record
 * read back from Kafka is equal to the item that was published.
 */
public final class RmbJson {

    static final ObjectMapper MAPPER = new ObjectMapper();

    private RmbJson() {
    }

    /**
     * Reads one record.
     *
     * @param where names the record in errors, e.g. {@code file.json record 12}
     * @throws RmbFormatException naming {@code where} and the missing or malformed field
     */
    public static RmbItem parse(JsonNode record, String where) {
        if (record == null || !record.isObject()) {
            throw new RmbFormatException(where + ": expected a JSON object, found "
                    + (record == null ? "nothing" : record.getNodeType().toString().toLowerCase()));
        }
        List<RmbTurn> conversation = conversation(record, where);
        String category = text(record, "category_path", where);
        if (record.has("pair_uid")) {
            return RmbItem.pairwise(uid(record, "pair_uid", where), conversation,
                    response(record.get("chosen"), where + " field chosen"),
                    response(record.get("reject"), where + " field reject"), category);
        }
        if (record.has("bon_uid")) {
            JsonNode losers = record.get("loser_list");
            if (losers == null || !losers.isArray() || losers.isEmpty()) {
                throw new RmbFormatException(where + ": loser_list must be a non-empty array of {llm_name, answer}");
            }
            List<RmbResponse> list = new ArrayList<>(losers.size());
            for (int i = 0; i < losers.size(); i++) {
                list.add(response(losers.get(i), where + " loser_list[" + i + "]"));
            }
            return RmbItem.bestOfN(uid(record, "bon_uid", where), conversation,
                    response(record.get("bon_best"), where + " field bon_best"), list, category);
        }
        throw new RmbFormatException(where + ": neither pair_uid (pairwise record) nor bon_uid (best-of-n record) "
                + "is present; fields are " + fieldNames(record));
    }

    /** Reads one record from JSON bytes (a record of the evaluation topic). */
    public static RmbItem parse(byte[] json, String where) {
        try {
            return parse(MAPPER.readTree(json), where);
        } catch (IOException e) {
            throw new RmbFormatException(where + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    /** The item as an RMB JSON record, compact UTF-8. */
    public static byte[] write(RmbItem item) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put(item.set() == RmbSet.PAIRWISE ? "pair_uid" : "bon_uid", item.uid());
        ArrayNode turns = node.putArray("conversation_input");
        for (RmbTurn turn : item.conversation()) {
            ObjectNode t = turns.addObject().put("role", turn.role()).put("content", turn.content());
            if (turn.language() != null) {
                t.put("language", turn.language());
            }
        }
        if (item.set() == RmbSet.PAIRWISE) {
            node.set("chosen", response(item.responses().get(0)));
            node.set("reject", response(item.responses().get(1)));
        } else {
            node.set("bon_best", response(item.preferred()));
            ArrayNode losers = node.putArray("loser_list");
            item.others().forEach(r -> losers.add(response(r)));
        }
        node.put("category_path", item.categoryPath());
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write RMB item " + item.key(), e);
        }
    }

    private static ObjectNode response(RmbResponse r) {
        ObjectNode node = MAPPER.createObjectNode();
        if (r.llmName() != null) {
            node.put("llm_name", r.llmName());
        }
        return node.put("answer", r.answer());
    }

    private static List<RmbTurn> conversation(JsonNode record, String where) {
        JsonNode turns = record.get("conversation_input");
        if (turns == null || !turns.isArray()) {
            throw new RmbFormatException(where + ": conversation_input must be an array of {role, content}");
        }
        List<RmbTurn> out = new ArrayList<>(turns.size());
        for (int i = 0; i < turns.size(); i++) {
            String at = where + " conversation_input[" + i + "]";
            JsonNode turn = turns.get(i);
            if (!turn.isObject()) {
                throw new RmbFormatException(at + ": expected an object {role, content, language}");
            }
            out.add(new RmbTurn(text(turn, "role", at), text(turn, "content", at), optionalText(turn, "language")));
        }
        return out;
    }

    private static RmbResponse response(JsonNode node, String where) {
        if (node == null || !node.isObject()) {
            throw new RmbFormatException(where + ": expected an object {llm_name, answer}");
        }
        return new RmbResponse(optionalText(node, "llm_name"), text(node, "answer", where));
    }

    private static String uid(JsonNode record, String field, String where) {
        JsonNode v = record.get(field);
        if (v == null || !(v.isTextual() || v.isNumber())) {
            throw new RmbFormatException(where + ": " + field + " must be a string or number");
        }
        return v.asText();
    }

    private static String text(JsonNode node, String field, String where) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            throw new RmbFormatException(where + ": field " + field + " is "
                    + (v == null ? "missing" : "not a string (" + v.getNodeType().toString().toLowerCase() + ")"));
        }
        return v.asText();
    }

    private static String optionalText(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static String fieldNames(JsonNode record) {
        List<String> names = new ArrayList<>();
        record.fieldNames().forEachRemaining(names::add);
        return names.toString();
    }
}
