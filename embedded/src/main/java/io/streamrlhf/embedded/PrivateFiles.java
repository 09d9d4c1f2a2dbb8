package io.streamrlhf.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Properties;

/**
 * Files that hold a secret (a user's password, a key store's): made anew, readable and writable by their owner only,
 * before anything is written to them, so the secret is never readable by others even for a moment.
 */
public final class PrivateFiles {

    private PrivateFiles() {
    }

    /**
     * Creates {@code file} empty, replacing any file there, with permissions {@code rw-------} where the file system
     * has POSIX permissions.
     */
    public static void create(Path file) throws IOException {
        Files.deleteIfExists(file);
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException noPosix) {
            Files.createFile(file);
        }
    }

    /** Writes {@code properties} to a {@link #create new private} {@code file}, under the comment line {@code comment}. */
    public static void writeProperties(Properties properties, Path file, String comment) {
        try {
            create(file);
            try (Writer out = Files.newBufferedWriter(file)) {
                properties.store(out, comment);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
