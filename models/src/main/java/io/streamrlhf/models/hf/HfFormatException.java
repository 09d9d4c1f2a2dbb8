package io.streamrlhf.models.hf;

import java.nio.file.Path;

/**
 * A Hugging Face model folder that cannot be read or is not supported: a corrupt or truncated file, a
 * missing, unexpected or wrongly shaped tensor, an architecture or setting that is not implemented. The
 * message starts with the file it concerns and names the tensor or setting.
 */
public final class HfFormatException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;

    /** A refusal concerning {@code file}; the message is prefixed with the file's path. */
    public HfFormatException(Path file, String message) {
        super(file + ": " + message);
        this.file = file;
    }

    /** The same, with the cause (an I/O or JSON error). */
    public HfFormatException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
    }

    /**
     * Refuses {@code setting} of {@code file} unless {@code ok}.
     *
     * @throws HfFormatException "{@code file}: {@code setting} {@code value} is not valid"
     */
    public static void require(Path file, boolean ok, String setting, Object value) {
        if (!ok) {
            throw new HfFormatException(file, setting + " " + value + " is not valid");
        }
    }

    /** The file the refusal concerns. */
    public Path file() {
        return file;
    }
}
