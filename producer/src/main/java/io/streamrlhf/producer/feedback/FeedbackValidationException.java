package io.streamrlhf.producer.feedback;

/** A feedback request is invalid; the message names the field and what is wrong with it. */
public class FeedbackValidationException extends RuntimeException {

    private final String field;

    /**
     * @param field   the offending field (JSON name), or {@code null} for the request as a whole
     * @param message what is wrong
     */
    public FeedbackValidationException(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The offending field, or {@code null}. */
    public String field() {
        return field;
    }
}
