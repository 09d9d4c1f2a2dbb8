package io.streamrlhf.producer.swap;

/**
 * A published checkpoint could not be fetched or failed verification (sha256 of its manifest, a file's sha256,
 * its shape). The message names the policy, the version, the URI and what was wrong.
 */
public class CheckpointRefusedException extends RuntimeException {

    /** With a message naming the version and the problem. */
    public CheckpointRefusedException(String message) {
        super(message);
    }

    /** With a message and the underlying cause. */
    public CheckpointRefusedException(String message, Throwable cause) {
        super(message, cause);
    }
}
