package io.streamrlhf.embedded;

/**
 * An embedded broker or registry could not be started (or found); the message says what was
 * tried and how to fix it.
 */
public class EmbeddedStartException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** An error with a message that names what failed and where. */
    public EmbeddedStartException(String message) {
        super(message);
    }

    /** An error with a message that names what failed and where, and its cause. */
    public EmbeddedStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
