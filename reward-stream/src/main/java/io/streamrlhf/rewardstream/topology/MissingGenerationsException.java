package io.streamrlhf.rewardstream.topology;

import java.util.List;

/**
 * A feedback label that names generations the join store does not hold (yet). {@link FeedbackJoiner} parks such a
 * label in the pending store until they arrive; only a label that waited too long, or that cannot wait, is
 * dead-lettered, as a plain {@link FeedbackRejectedException} with the reason.
 */
final class MissingGenerationsException extends FeedbackRejectedException {
    private static final long serialVersionUID = 1L;

    private final List<String> missing;

    MissingGenerationsException(String message, List<String> missing) {
        super(message);
        this.missing = List.copyOf(missing);
    }

    /** The generation ids the store did not hold, in the label's order. */
    List<String> missing() {
        return missing;
    }
}
