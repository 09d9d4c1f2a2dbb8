package io.streamrlhf.rewardstream.topology;

/** A feedback record that makes no preference pair, with the reason (dead-lettered to {@code feedback.dlq}). */
public class FeedbackRejectedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public FeedbackRejectedException(String message) {
        super(message);
    }
}
