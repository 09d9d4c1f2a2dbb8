package io.streamrlhf.cli.demo;

/** A demo component failed (or the run was interrupted); the message names the component and what happened. */
public final class DemoFailureException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** A failure described by {@code message}. */
    public DemoFailureException(String message) {
        super(message);
    }

    /** A failure described by {@code message}, caused by {@code cause}. */
    public DemoFailureException(String message, Throwable cause) {
        super(message, cause);
    }
}
