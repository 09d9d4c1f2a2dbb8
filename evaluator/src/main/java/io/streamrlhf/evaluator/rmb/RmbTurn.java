package io.streamrlhf.evaluator.rmb;

import java.util.Objects;

/**
 * One turn of an item's {@code conversation_input}.
 *
 * @param role     {@code user}, {@code assistant} or {@code system}, as written in the file
 * @param content  the text of the turn
 * @param language the language RMB records for the turn, or {@code null} when absent
 */
public record RmbTurn(String role, String content, String language) {

    /** Checks the required parts. */
    public RmbTurn {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }
}
