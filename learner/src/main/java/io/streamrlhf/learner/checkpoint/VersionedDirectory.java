package io.streamrlhf.learner.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.LongFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
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
        Path target = dir(version);
        if (Files.exists(target)) {
            throw new CheckpointException(what + " " + target + " already exists; versions are written once");
        }
        Path tmp = root.resolve(TEMPORARY + target.getFileName() + "-" + UUID.randomUUID());
        try {
            Files.createDirectories(tmp);
            Map<String, byte[]> listed = contents.writeInto(tmp);
            Files.write(tmp.resolve(MANIFEST), JSON.writeValueAsBytes(manifest(listed)));
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target);
            }
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
     * The newest version that {@code load} accepts (it throws {@link CheckpointException} for one that does not
     * verify, which is skipped with a warning), after removing leftovers of interrupted saves.
     */
    public <T> Optional<T> loadNewest(LongFunction<T> load) {
        try (Stream<Path> list = Files.list(root)) {
            list.filter(p -> p.getFileName().toString().startsWith(TEMPORARY)).forEach(p -> {
                LOG.info("removing {} left by an interrupted save", p.getFileName());
                deleteQuietly(p);
            });
        } catch (IOException e) {
            throw new CheckpointException("cannot list " + root + ": " + e.getMessage(), e);
        }
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
