package io.streamrlhf.rewardstream.scoring.remote;

/**
 * A remote scorer (a judge or a reward server) answered with an HTTP error; 429 and 5xx are worth retrying, other
 * codes are not.
 */
public class EndpointHttpException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;

    private final long retryAfterMillis;

    /**
     * @param what             what answered, for the message (e.g. {@code judge http://...})
     * @param retryAfterMillis the server's {@code Retry-After}, in milliseconds, or 0 when it gave none
     */
    public EndpointHttpException(String what, int status, String body, long retryAfterMillis) {
        super(what + " answered HTTP " + status + ": " + abbreviate(body));
        this.status = status;
        this.retryAfterMillis = retryAfterMillis;
    }

    public int status() {
        return status;
    }

    /** How long the server asked callers to wait ({@code Retry-After}), in milliseconds; 0 when it did not say. */
    public long retryAfterMillis() {
        return retryAfterMillis;
    }

    /** Whether another attempt may succeed. */
    public boolean retryable() {
        return status == 429 || status >= 500;
    }

    private static String abbreviate(String body) {
        return body == null ? "" : body.length() <= 300 ? body : body.substring(0, 300) + "...";
    }
}
