package io.streamrlhf.models.checkpoint;

/**
 * A checkpoint could not be written, read or verified. The message names the checkpoint and the
 * file (or entry) that was wrong.
 */
public class CheckpointException extends RuntimeException {

    /** With a message naming what was wrong. */
    public CheckpointException(String message) {
        super(message);
    }

    /** With a message and the underlying cause. */
    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
