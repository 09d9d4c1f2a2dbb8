package io.streamrlhf.schemas.chunks;

/** A version's chunks could not be read from the checkpoints topic; the message names the topic, key and reason. */
public final class ChunkReadException extends RuntimeException {

    /** With a message naming what was read and what was wrong. */
    public ChunkReadException(String message) {
        super(message);
    }

    /** With a message and the cause. */
    public ChunkReadException(String message, Throwable cause) {
        super(message, cause);
    }
}
