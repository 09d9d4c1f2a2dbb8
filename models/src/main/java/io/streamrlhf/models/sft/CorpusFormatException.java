package io.streamrlhf.models.sft;

import java.nio.file.Path;

/**
 * A JSONL corpus that cannot be read as one: the message starts with {@code FILE:LINE:} (or {@code FILE:} for the
 * whole file) and says what is wrong there.
 */
public final class CorpusFormatException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final int line;

    /** A fault at {@code line} (1-based) of {@code file}. */
    public CorpusFormatException(Path file, int line, String what) {
        super(file + ":" + line + ": " + what);
        this.file = file;
        this.line = line;
    }

    /** A fault at {@code line} of {@code file} that a library reported ({@code cause}). */
    public CorpusFormatException(Path file, int line, String what, Throwable cause) {
        super(file + ":" + line + ": " + what, cause);
        this.file = file;
        this.line = line;
    }

    /** A fault of the whole file (it is missing, empty, unreadable). */
    public CorpusFormatException(Path file, String what, Throwable cause) {
        super(file + ": " + what, cause);
        this.file = file;
        this.line = 0;
    }

    /** The corpus file. */
    public Path file() {
        return file;
    }

    /** The 1-based line at fault, or 0 when the fault is the whole file's. */
    public int line() {
        return line;
    }
}
