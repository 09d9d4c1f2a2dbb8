package io.streamrlhf.evaluator.rmb;

/** An RMB file or record that cannot be read; the message names the file, the record and the field. */
public final class RmbFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RmbFormatException(String message) {
        super(message);
    }

    public RmbFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
