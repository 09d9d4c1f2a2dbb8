package io.streamrlhf.loop.supervision;

/** A component of the loop failed (or the run was interrupted); the message names the component and what happened. */
public final class LoopFailureException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** A failure described by {@code message}. */
    public LoopFailureException(String message) {
        super(message);
    }

    /** A failure described by {@code message}, caused by {@code cause}. */
    public LoopFailureException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * A throwable in one line for a failure message: its class and message, and its cause's message when that adds
     * something.
     */
    public static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder(t.getClass().getSimpleName());
        if (t.getMessage() != null) {
            sb.append(": ").append(t.getMessage());
        }
        Throwable cause = t.getCause();
        if (cause != null && cause != t && cause.getMessage() != null && !sb.toString().contains(cause.getMessage())) {
            sb.append(" (").append(cause.getMessage()).append(')');
        }
        return sb.toString();
    }
}
