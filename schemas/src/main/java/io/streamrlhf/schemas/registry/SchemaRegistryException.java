package io.streamrlhf.schemas.registry;

/**
 * A failed schema-registry call. Carries the HTTP status and the Confluent error code (e.g. 40401 subject not
 * found, 40403 schema not found, 409 incompatible, 42201 invalid schema) when the registry answered, or
 * {@link #UNREACHABLE} when it could not be reached at all. The message always names the registry URL and
 * what was asked.
 */
public class SchemaRegistryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Status used when no HTTP answer came back (connection refused, timeout, TLS failure). */
    public static final int UNREACHABLE = -1;

    private final int httpStatus;
    private final int errorCode;

    public SchemaRegistryException(String message, int httpStatus, int errorCode, Throwable cause) {
        super(message, cause);
        this.httpStatus = httpStatus;
        this.errorCode = errorCode;
    }

    public SchemaRegistryException(String message, int httpStatus, int errorCode) {
        this(message, httpStatus, errorCode, null);
    }

    /** The HTTP status, or {@link #UNREACHABLE}. */
    public int httpStatus() {
        return httpStatus;
    }

    /** The registry's {@code error_code}, or the HTTP status when the body had none. */
    public int errorCode() {
        return errorCode;
    }

    /** True when the registry could not be reached. */
    public boolean isUnreachable() {
        return httpStatus == UNREACHABLE;
    }

    /**
     * True when the failure says nothing about the request itself and the same call may succeed later: the
     * registry could not be reached, was overloaded (HTTP 429) or failed inside (HTTP 5xx). A reader must retry
     * such a failure, never take the record it was reading for a bad one.
     */
    public boolean isTransient() {
        return isUnreachable() || httpStatus == 429 || httpStatus / 100 == 5;
    }

    /** True when the registry answered 404 (unknown subject, version or schema id). */
    public boolean isNotFound() {
        return httpStatus == 404;
    }

    /** True when the registry rejected a schema as incompatible with the subject's rule (HTTP 409). */
    public boolean isIncompatible() {
        return httpStatus == 409;
    }
}
