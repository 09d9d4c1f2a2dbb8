package io.streamrlhf.learner.rm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The online trainer's checkpoints, one directory per version:
 *
 * <pre>
 *   v000000000003/
 *     member-0/ .. member-(M-1)/   reward-model checkpoints (CheckpointStore format; what rm.versions points at)
 *     trainer.json                 version, parent, offsets trained up to, counters, metrics
 *     manifest.json                sha256 and size of trainer.json and of each member's manifest
 * </pre>
 *
 * Written into a hidden temporary directory and renamed into place, so a crash leaves the complete
 * checkpoint or none; {@link #loadNewest()} returns the newest version that verifies. The same scheme
 * as the PPO learner's checkpoints, for an ensemble instead of one policy and without a ledger (each
 * pair's offset says whether it was trained on).
 */
public final class RmCheckpointStore {

    private static final Logger LOG = LoggerFactory.getLogger(RmCheckpointStore.class);
    private static final Pattern NAME = Pattern.compile("v(\\d{12})");
    private static final String STATE = "trainer.json";
    private static final String MANIFEST = "manifest.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path root;

    /** A store rooted at {@code root} (created when missing). */
    public RmCheckpointStore(Path root) {
        this.root = root.toAbsolutePath();
        try {
            Files.createDirectories(this.root);
        } catch (IOException e) {
            throw new CheckpointException("cannot create reward-model checkpoint directory " + root + ": "
                    + e.getMessage(), e);
        }
    }

    /** The root directory. */
    public Path root() {
        return root;
    }

    /** A version's directory. */
    public Path dir(long version) {
        return root.resolve(String.format("v%012d", version));
    }

    /** Member m's reward-model checkpoint of a version (what the reward stream loads). */
    public Path memberDir(long version, int member) {
        return dir(version).resolve("member-" + member);
    }

    /** Saves atomically; returns the version's directory. */
    public Path save(RmCheckpoint c) {
        Path target = dir(c.version());
        if (Files.exists(target)) {
            throw new CheckpointException("reward-model checkpoint " + target + " already exists; versions are written once");
        }
        Path tmp = root.resolve(".tmp-" + target.getFileName() + "-" + UUID.randomUUID());
        try {
            Files.createDirectories(tmp);
            Map<String, byte[]> listed = new TreeMap<>();
            for (int m = 0; m < c.members().size(); m++) {
                Path member = tmp.resolve("member-" + m);
                CheckpointStore.save(c.members().get(m), member);
                listed.put("member-" + m + "/" + CheckpointStore.MANIFEST,
                        Files.readAllBytes(member.resolve(CheckpointStore.MANIFEST)));
            }
            byte[] state = JSON.writeValueAsBytes(stateJson(c));
            Files.write(tmp.resolve(STATE), state);
            listed.put(STATE, state);
            ObjectNode manifest = JSON.createObjectNode();
            manifest.put("formatVersion", 1);
            ObjectNode files = manifest.putObject("files");
            listed.forEach((name, bytes) -> files.putObject(name).put("sha256", CheckpointStore.sha256(bytes))
                    .put("size", bytes.length));
            Files.write(tmp.resolve(MANIFEST), JSON.writeValueAsBytes(manifest));
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target);
            }
            return target;
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new CheckpointException("cannot save reward-model checkpoint " + target + ": " + e.getMessage(), e);
        }
    }

    /** Versions present, ascending. */
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

    /** The newest checkpoint that verifies; removes leftovers of interrupted saves. */
    public Optional<RmCheckpoint> loadNewest() {
        try (Stream<Path> list = Files.list(root)) {
            list.filter(p -> p.getFileName().toString().startsWith(".tmp-")).forEach(p -> {
                LOG.info("removing {} left by an interrupted save", p.getFileName());
                deleteQuietly(p);
            });
        } catch (IOException e) {
            throw new CheckpointException("cannot list " + root + ": " + e.getMessage(), e);
        }
        List<Long> versions = versions();
        for (int i = versions.size() - 1; i >= 0; i--) {
            try {
                return Optional.of(load(versions.get(i)));
            } catch (CheckpointException e) {
                LOG.warn("skipping reward-model checkpoint version {}: {}", versions.get(i), e.getMessage());
            }
        }
        return Optional.empty();
    }

    /** Loads and verifies one version. */
    public RmCheckpoint load(long version) {
        Path dir = dir(version);
        try {
            JsonNode listed = JSON.readTree(Files.readAllBytes(dir.resolve(MANIFEST))).path("files");
            byte[] state = Files.readAllBytes(dir.resolve(STATE));
            check(dir, listed, STATE, state);
            JsonNode s = JSON.readTree(state);
            if (s.path("version").asLong(-1) != version) {
                throw new CheckpointException("checkpoint " + dir + " says it is version " + s.path("version").asText());
            }
            int members = s.path("members").asInt();
            List<Checkpoint> out = new ArrayList<>(members);
            for (int m = 0; m < members; m++) {
                Path member = memberDir(version, m);
                check(dir, listed, "member-" + m + "/" + CheckpointStore.MANIFEST,
                        Files.readAllBytes(member.resolve(CheckpointStore.MANIFEST)));
                out.add(CheckpointStore.load(member));
            }
            Map<String, Long> offsets = new TreeMap<>();
            s.path("offsets").fields().forEachRemaining(e -> offsets.put(e.getKey(), e.getValue().asLong()));
            Map<String, Double> metrics = new LinkedHashMap<>();
            s.path("metrics").fields().forEachRemaining(e -> metrics.put(e.getKey(), e.getValue().asDouble()));
            return new RmCheckpoint(version, s.path("parentVersion").asLong(), out, offsets, s.path("pairsSeen").asLong(),
                    s.path("steps").asLong(), metrics);
        } catch (IOException e) {
            throw new CheckpointException("reward-model checkpoint " + dir + " is unreadable: " + e.getMessage(), e);
        }
    }

    /** Lower-case hex sha256 of member m's manifest, the digest {@code RewardModelVersion.sha256} carries. */
    public String memberSha256(long version, int member) {
        try {
            return CheckpointStore.sha256(Files.readAllBytes(memberDir(version, member).resolve(CheckpointStore.MANIFEST)));
        } catch (IOException e) {
            throw new CheckpointException("cannot read the manifest of " + memberDir(version, member) + ": "
                    + e.getMessage(), e);
        }
    }

    /** Total bytes of member m's checkpoint. */
    public long memberSize(long version, int member) {
        try (Stream<Path> files = Files.walk(memberDir(version, member))) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException e) {
            throw new CheckpointException("cannot size " + memberDir(version, member) + ": " + e.getMessage(), e);
        }
    }

    /** Deletes all but the newest {@code keep} versions. */
    public void prune(int keep) {
        List<Long> versions = versions();
        for (int i = 0; i < versions.size() - keep; i++) {
            deleteQuietly(dir(versions.get(i)));
        }
    }

    private static void check(Path dir, JsonNode listed, String name, byte[] bytes) {
        String expected = listed.path(name).path("sha256").asText("");
        String actual = CheckpointStore.sha256(bytes);
        if (!expected.equals(actual)) {
            throw new CheckpointException("reward-model checkpoint " + dir + ": " + name + " fails its sha256 check "
                    + "(manifest '" + expected + "', file " + actual + ")");
        }
    }

    private static ObjectNode stateJson(RmCheckpoint c) {
        ObjectNode s = JSON.createObjectNode();
        s.put("formatVersion", 1);
        s.put("version", c.version());
        s.put("parentVersion", c.parentVersion());
        s.put("members", c.members().size());
        s.put("pairsSeen", c.pairsSeen());
        s.put("steps", c.steps());
        ObjectNode offsets = s.putObject("offsets");
        new TreeMap<>(c.offsets()).forEach(offsets::put);
        ObjectNode metrics = s.putObject("metrics");
        new TreeMap<>(c.metrics()).forEach((k, v) -> {
            if (Double.isFinite(v)) {
                metrics.put(k, v);
            }
        });
        return s;
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
