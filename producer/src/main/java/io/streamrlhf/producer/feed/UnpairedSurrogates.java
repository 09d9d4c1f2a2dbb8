package io.streamrlhf.producer.feed;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;

/**
 * Finds strings in JSON that are not Unicode text: JSON's {@code \uD800} escapes can spell a lone surrogate, which
 * Java keeps in a string but UTF-8 cannot encode, so Avro would store it as {@code ?}: an id would change between
 * the answer and the topic, a text would be silently altered. Inputs holding one are refused instead.
 */
public final class UnpairedSurrogates {

    private UnpairedSurrogates() {
    }

    /** The path ({@code texts[1]}, {@code conversation[0].content}, a field name) of the first such string, if any. */
    public static Optional<String> find(JsonNode node) {
        return find(node, "");
    }

    private static Optional<String> find(JsonNode node, String path) {
        if (node.isTextual()) {
            return unpaired(node.asText()) ? Optional.of(path) : Optional.empty();
        }
        if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                Optional<String> found = find(node.get(i), path + "[" + i + "]");
                if (found.isPresent()) {
                    return found;
                }
            }
        } else if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String at = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
                if (unpaired(e.getKey())) {
                    return Optional.of(at);
                }
                Optional<String> found = find(e.getValue(), at);
                if (found.isPresent()) {
                    return found;
                }
            }
        }
        return Optional.empty();
    }

    /** Whether {@code s} holds a surrogate that is not half of a pair. */
    static boolean unpaired(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                } else {
                    return true;
                }
            } else if (Character.isLowSurrogate(c)) {
                return true;
            }
        }
        return false;
    }
}
