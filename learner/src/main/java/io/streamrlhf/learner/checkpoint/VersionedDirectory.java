package io.streamrlhf.learner.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.checkpoint.DurableFiles;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.LongFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The storage scheme the trainers' checkpoints share: one directory per version ({@code v000000000012/}) under a
 * root, each written into a hidden temporary sibling and renamed into place, so a crash leaves the complete version
 * or none, and each holding a {@code manifest.json} with the sha256 and size of the files that make it up.
 * What goes inside a version is the caller's business ({@link LearnerCheckpointStore}, the reward-model trainer's
 * store).
 */
public final class VersionedDirectory {

    /** The manifest's file name inside a version's directory. */
    public static final String MANIFEST = "manifest.json";

    private static final Logger LOG = LoggerFactory.getLogger(VersionedDirectory.class);
    private static final Pattern NAME = Pattern.compile("v(\\d{12})");
    private static final String TEMPORARY = ".tmp-";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** The time of every archive entry, 2020-01-01 UTC: archives of the same files are the same bytes. */
    private static final long ARCHIVE_TIME = 1_577_836_800_000L;

    /** Fills a new version's (temporary) directory and returns the files its manifest lists: name → bytes. */
    @FunctionalInterface
    public interface Contents {
        Map<String, byte[]> writeInto(Path dir) throws IOException;
    }

    private final Path root;
    private final String what;

    /**
     * A store rooted at {@code root} (created when missing).
     *
     * @param what how errors name these checkpoints, e.g. "checkpoint" or "reward-model checkpoint"
     */
    public VersionedDirectory(Path root, String what) {
        this.root = root.toAbsolutePath();
        this.what = what;
        try {
            Files.createDirectories(this.root);
        } catch (IOException e) {
            throw new CheckpointException("cannot create " + what + " directory " + root + ": " + e.getMessage(), e);
        }
    }

    /** The root directory. */
    public Path root() {
        return root;
    }

    /** The directory of a version. */
    public Path dir(long version) {
        return root.resolve(String.format("v%012d", version));
    }

    /** Writes a version atomically; returns its directory. A version is written once. */
    public Path write(long version, Contents contents) {
        return write(version, contents, true);
    }

    /**
     * Writes a version atomically from {@code files} (path relative to the version's directory → bytes), manifest
     * included, as another store wrote it: what {@link #verify} then checks is that store's manifest. Returns its
     * directory. A version is written once.
     *
     * @throws CheckpointException naming the path when one would leave the version's directory
     */
    public Path install(long version, Map<String, byte[]> files) {
        return write(version, dir -> {
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                Path p = dir.resolve(f.getKey()).normalize();
                if (!p.startsWith(dir) || p.equals(dir)) {
                    throw new CheckpointException(what + " version " + version + ": '" + f.getKey()
                            + "' is not a path inside its directory");
                }
                Files.createDirectories(p.getParent());
                Files.write(p, f.getValue());
            }
            return Map.of();
        }, false);
    }

    private Path write(long version, Contents contents, boolean writeManifest) {
        Path target = dir(version);
        if (Files.exists(target)) {
            throw new CheckpointException(what + " " + target + " already exists; versions are written once");
        }
        Path tmp = root.resolve(TEMPORARY + target.getFileName() + "-" + UUID.randomUUID());
        try {
            Files.createDirectories(tmp);
            Map<String, byte[]> listed = contents.writeInto(tmp);
            if (writeManifest) {
                Files.write(tmp.resolve(MANIFEST), JSON.writeValueAsBytes(manifest(listed)));
            }
            // Every file and the root fsynced around the rename: a version that exists after a crash is complete.
            DurableFiles.moveIntoPlace(tmp, target, false);
            return target;
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new CheckpointException("cannot save " + what + " " + target + ": " + e.getMessage(), e);
        }
    }

    /**
     * Checks files of a version against its manifest.
     *
     * @throws CheckpointException naming the file when one is missing from the manifest or fails its sha256 check
     */
    public void verify(long version, Map<String, byte[]> files) throws IOException {
        Path dir = dir(version);
        Path manifestPath = dir.resolve(MANIFEST);
        if (!Files.exists(manifestPath)) {
            throw new CheckpointException(what + " " + dir + ": " + MANIFEST + " is missing");
        }
        JsonNode listed = JSON.readTree(Files.readAllBytes(manifestPath)).path("files");
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            String expected = listed.path(f.getKey()).path("sha256").asText("");
            String actual = CheckpointStore.sha256(f.getValue());
            if (!expected.equals(actual)) {
                throw new CheckpointException(what + " " + dir + ": " + f.getKey() + " fails its sha256 check "
                        + "(manifest '" + expected + "', file " + actual + ")");
            }
        }
    }

    /** Versions present (complete or not), ascending. */
    public List<Long> versions() {
        List<Long> out = new ArrayList<>();
        try (Stream<Path> list = Files.list(root)) {
            list.forEach(p -> {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (m.matches() && Files.isDirectory(p)) {
                    out.add(Long.parseLong(m.group(1)));
                }
            });
        } catch (IOException e) {
            throw new CheckpointException("cannot list " + root + ": " + e.getMessage(), e);
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }

    /**
     * Removes the temporary directories of saves that did not finish. Only the directory's one writer may call it: a
     * save in progress in another process looks the same as an interrupted one.
     */
    public void removeTemporaries() {
        try (Stream<Path> list = Files.list(root)) {
            list.filter(p -> p.getFileName().toString().startsWith(TEMPORARY)).forEach(p -> {
                LOG.info("removing {} left by an interrupted save", p.getFileName());
                deleteQuietly(p);
            });
        } catch (IOException e) {
            throw new CheckpointException("cannot list " + root + ": " + e.getMessage(), e);
        }
    }

    /**
     * The newest version that {@code load} accepts (it throws {@link CheckpointException} for one that does not
     * verify, which is skipped with a warning). Reads only: temporary directories are ignored, not removed.
     */
    public <T> Optional<T> loadNewest(LongFunction<T> load) {
        List<Long> versions = versions();
        for (int i = versions.size() - 1; i >= 0; i--) {
            try {
                return Optional.of(load.apply(versions.get(i)));
            } catch (CheckpointException e) {
                LOG.warn("skipping {} version {}: {}", what, versions.get(i), e.getMessage());
            }
        }
        return Optional.empty();
    }

    /**
     * A version's directory as one byte array, for a store on another machine to {@link #install}: a zip archive of
     * its files under their paths relative to the directory, stored, not compressed (weights barely compress), with
     * a fixed time, so the same version archives to the same bytes.
     *
     * @throws CheckpointException naming the directory when it cannot be read
     */
    public byte[] archive(long version) {
        Path dir = dir(version);
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new CheckpointException("cannot list " + what + " " + dir + ": " + e.getMessage(), e);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.setMethod(ZipOutputStream.STORED);
            for (Path p : files) {
                byte[] data = Files.readAllBytes(p);
                ZipEntry entry = new ZipEntry(dir.relativize(p).toString().replace('\\', '/'));
                CRC32 crc = new CRC32();
                crc.update(data);
                entry.setMethod(ZipEntry.STORED);
                entry.setSize(data.length);
                entry.setCompressedSize(data.length);
                entry.setCrc(crc.getValue());
                entry.setTime(ARCHIVE_TIME);
                zip.putNextEntry(entry);
                zip.write(data);
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot archive " + what + " " + dir + ": " + e.getMessage(), e);
        }
        return bytes.toByteArray();
    }

    /**
     * The files of an {@link #archive}: path relative to the version's directory → bytes.
     *
     * @param where how errors name the archive
     * @throws CheckpointException when it is not a readable zip archive or an entry would leave the directory
     */
    public static Map<String, byte[]> unarchive(byte[] archive, String where) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(archive))) {
            ZipEntry e;
            while ((e = zip.getNextEntry()) != null) {
                if (e.isDirectory()) {
                    continue;
                }
                String name = e.getName();
                if (name.startsWith("/") || name.contains("\\") || List.of(name.split("/")).contains("..")) {
                    throw new CheckpointException(where + ": entry '" + name + "' leaves the version's directory");
                }
                files.put(name, zip.readAllBytes());
            }
        } catch (IOException e) {
            throw new CheckpointException(where + " is not a readable zip archive: " + e.getMessage(), e);
        }
        return files;
    }

    /** Deletes a version's directory (one that did not verify, before a good copy is installed in its place). */
    public void discard(long version) {
        deleteQuietly(dir(version));
    }

    /** Deletes all but the newest {@code keep} versions. */
    public void prune(int keep) {
        List<Long> versions = versions();
        for (int i = 0; i < versions.size() - keep; i++) {
            deleteQuietly(dir(versions.get(i)));
        }
    }

    /** Hex sha256 of the models-format checkpoint manifest in {@code checkpointDir} (what published versions carry). */
    public String manifestSha256(Path checkpointDir) {
        try {
            return CheckpointStore.sha256(Files.readAllBytes(checkpointDir.resolve(CheckpointStore.MANIFEST)));
        } catch (IOException e) {
            throw new CheckpointException("cannot read the manifest of " + checkpointDir + ": " + e.getMessage(), e);
        }
    }

    /** Total bytes of the files under {@code dir}. */
    public long size(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException e) {
            throw new CheckpointException("cannot size " + dir + ": " + e.getMessage(), e);
        }
    }

    private static ObjectNode manifest(Map<String, byte[]> files) {
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("formatVersion", 1);
        ObjectNode list = manifest.putObject("files");
        new TreeMap<>(files).forEach((name, bytes) -> {
            ObjectNode e = list.putObject(name);
            e.put("sha256", CheckpointStore.sha256(bytes));
            e.put("size", bytes.length);
        });
        return manifest;
    }

    private static void deleteQuietly(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    LOG.warn("could not delete {}: {}", p, e.getMessage());
                }
            });
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", dir, e.getMessage());
        }
    }
}
