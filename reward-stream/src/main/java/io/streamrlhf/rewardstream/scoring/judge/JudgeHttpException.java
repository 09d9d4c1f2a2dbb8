package io.streamrlhf.rewardstream.scoring.judge;

/** The judge endpoint answered with an HTTP error; 429 and 5xx are worth retrying, other codes are not. */
public class JudgeHttpException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;

    public JudgeHttpException(String endpoint, int status, String body) {
        super("judge " + endpoint + " answered HTTP " + status + ": " + abbreviate(body));
        this.status = status;
    }

    public int status() {
        return status;
    }

    /** Whether another attempt may succeed. */
    public boolean retryable() {
        return status == 429 || status >= 500;
    }

    private static String abbreviate(String body) {
        return body == null ? "" : body.length() <= 300 ? body : body.substring(0, 300) + "...";
    }
}
