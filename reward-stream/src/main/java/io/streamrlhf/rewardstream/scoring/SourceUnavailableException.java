package io.streamrlhf.rewardstream.scoring;

/** A reward source could not score a batch at all: a judge that times out, fails, or whose circuit is open. */
public class SourceUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String source;

    public SourceUnavailableException(String source, String message, Throwable cause) {
        super("reward source '" + source + "' is unavailable: " + message, cause);
        this.source = source;
    }

    /** Name of the source that failed. */
    public String source() {
        return source;
    }
}
