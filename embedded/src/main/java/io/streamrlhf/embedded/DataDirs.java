package io.streamrlhf.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creating and removing the directories the embedded servers work in. */
final class DataDirs {

    private static final Logger LOG = LoggerFactory.getLogger(DataDirs.class);

    private DataDirs() {
    }

    /** File in each temporary directory naming the process that owns it. */
    static final String OWNER_FILE = "owner.pid";

    /**
     * A new directory under the system temporary directory, marked with this JVM's pid. Directories
     * with the same prefix whose owner is gone (a JVM killed before it could clean up) are removed
     * first, so killed test forks do not fill the disk.
     */
    static Path createTemp(String prefix) {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        sweepOrphans(tmp, prefix);
        try {
            Path dir = Files.createTempDirectory(tmp, prefix);
            Files.writeString(dir.resolve(OWNER_FILE), ProcessHandle.current().pid() + "\n");
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("could not create a temporary directory in " + tmp, e);
        }
    }

    /** Deletes {@code prefix*} directories in {@code parent} whose owner process is no longer alive. */
    static void sweepOrphans(Path parent, String prefix) {
        try (Stream<Path> dirs = Files.list(parent)) {
            dirs.filter(d -> d.getFileName().toString().startsWith(prefix) && Files.isDirectory(d))
                    .filter(DataDirs::ownerIsGone)
                    .forEach(d -> {
                        LOG.debug("Removing {}, left behind by a process that no longer runs", d);
                        deleteRecursively(d);
                    });
        } catch (IOException e) {
            LOG.debug("Could not list {}: {}", parent, e.toString());
        }
    }

    /** True only when the directory names an owner and that process is gone (unknown owner: keep). */
    private static boolean ownerIsGone(Path dir) {
        try {
            String pid = Files.readString(dir.resolve(OWNER_FILE)).trim();
            return ProcessHandle.of(Long.parseLong(pid)).map(p -> !p.isAlive()).orElse(true);
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }

    /** {@code dir}, created with its parents if missing. */
    static Path ensureDirectory(Path dir) {
        try {
            return Files.createDirectories(dir.toAbsolutePath());
        } catch (IOException e) {
            throw new EmbeddedStartException("could not create directory " + dir + ": " + e, e);
        }
    }

    /** Deletes {@code dir} and everything in it; failures are logged, not thrown (this runs on shutdown paths). */
    static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw e;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            LOG.warn("Could not delete {}: {}", dir, e.toString());
        }
    }
}
