package io.streamrlhf.embedded;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An application class-data-sharing (AppCDS) archive for the registry JVM, kept in the cache.
 *
 * <p>Most of the registry's start-up is loading and verifying a few thousand Quarkus classes. The
 * first run records them ({@code -XX:ArchiveClassesAtExit}, written when the child exits); later
 * runs map the archive ({@code -XX:SharedArchiveFile}) and start in about half the time on two
 * cores. The archive is only valid for the same JVM and the same class path, so its name is a
 * fingerprint of both; a mismatching archive is ignored by the JVM itself, never fatal.
 *
 * <p>The child writes its recording to a private temporary name; the parent publishes it under the
 * shared name by an atomic rename, and only after a graceful stop (a killed child may leave half a
 * file). Racing processes may each record one; the first rename wins.
 */
final class ClassDataArchive {

    private static final Logger LOG = LoggerFactory.getLogger(ClassDataArchive.class);
    private static final String PREFIX = "registry-cds-";
    private static final Duration STALE_PENDING = Duration.ofHours(1);

    private final Path archive;
    private final Path pending;

    private ClassDataArchive(Path archive, Path pending) {
        this.archive = archive;
        this.pending = pending;
    }

    /**
     * The archive for this JVM and class path: reused when present, otherwise recorded by this launch.
     *
     * @param cacheRoot   directory that holds archives
     * @param java        the child's java executable
     * @param classPath   the child's class path, exactly as passed
     * @param jvmOptions  the child's other JVM options (the GC choice is part of what an archive fits)
     */
    static ClassDataArchive forLaunch(Path cacheRoot, String java, String classPath, List<String> jvmOptions) {
        String fingerprint = fingerprint(java + "\n" + Runtime.version() + "\n" + classPath + "\n"
                + String.join(" ", jvmOptions));
        Path archive = cacheRoot.resolve(PREFIX + fingerprint + ".jsa");
        if (Files.isRegularFile(archive)) {
            return new ClassDataArchive(archive, null);
        }
        deleteStalePending(cacheRoot);
        Path pending = cacheRoot.resolve(PREFIX + fingerprint + "." + UUID.randomUUID() + ".tmp");
        return new ClassDataArchive(archive, pending);
    }

    /** Whether this launch maps an existing archive (false: it records one). */
    boolean reused() {
        return pending == null;
    }

    /** The JVM option that maps or records the archive. */
    String jvmOption() {
        return reused() ? "-XX:SharedArchiveFile=" + archive : "-XX:ArchiveClassesAtExit=" + pending;
    }

    /** The archive's shared path. */
    Path archive() {
        return archive;
    }

    /**
     * After the child is gone: publish a recording from a graceful exit, discard one from a forced kill.
     *
     * @param graceful whether the child exited on SIGTERM within its grace period
     */
    void afterStop(boolean graceful) {
        if (pending == null || !Files.exists(pending)) {
            return;
        }
        try {
            if (graceful && Files.size(pending) > 0 && !Files.exists(archive)) {
                Files.move(pending, archive, StandardCopyOption.ATOMIC_MOVE);
                LOG.debug("Published class-data archive {}", archive);
            } else {
                Files.deleteIfExists(pending);
            }
        } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
            deleteQuietly(pending);
        } catch (IOException e) {
            LOG.debug("Could not publish class-data archive {}: {}", archive, e.toString());
            deleteQuietly(pending);
        }
    }

    /** Recordings left by children whose parent was killed before publishing them. */
    private static void deleteStalePending(Path cacheRoot) {
        Instant cutoff = Instant.now().minus(STALE_PENDING);
        try (Stream<Path> files = Files.list(cacheRoot)) {
            files.filter(p -> p.getFileName().toString().startsWith(PREFIX) && p.toString().endsWith(".tmp"))
                    .filter(p -> {
                        try {
                            return Files.getLastModifiedTime(p).toInstant().isBefore(cutoff);
                        } catch (IOException e) {
                            return false;
                        }
                    })
                    .forEach(ClassDataArchive::deleteQuietly);
        } catch (IOException e) {
            LOG.debug("Could not list {}: {}", cacheRoot, e.toString());
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.debug("Could not delete {}: {}", file, e.toString());
        }
    }

    static String fingerprint(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is missing from this JDK", e);
        }
    }
}
