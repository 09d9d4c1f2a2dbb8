package io.streamrlhf.models.hf.tokenizer;

import java.nio.file.Path;

/**
 * A tokenizer file of a model folder that is missing, cannot be read, or holds something this package refuses
 * (a malformed JSON, a special token not in the vocabulary, a chat template that does not parse or raises). The
 * message names the file and what failed.
 */
public final class TokenizerFileException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;

    /** An error about {@code file}; the message is prefixed with the file's path. */
    public TokenizerFileException(Path file, String what) {
        super(file + ": " + what);
        this.file = file;
    }

    /** An error about {@code file} caused by {@code cause}. */
    public TokenizerFileException(Path file, String what, Throwable cause) {
        super(file + ": " + what, cause);
        this.file = file;
    }

    /** The file the error is about. */
    public Path file() {
        return file;
    }
}
