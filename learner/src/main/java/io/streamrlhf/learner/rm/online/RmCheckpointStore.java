package io.streamrlhf.learner.rm.online;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.learner.checkpoint.VersionedDirectory;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

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

    private static final String STATE = "trainer.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final VersionedDirectory versions;

    /** A store rooted at {@code root} (created when missing). */
    public RmCheckpointStore(Path root) {
        this.versions = new VersionedDirectory(root, "reward-model checkpoint");
    }

    /** The root directory. */
    public Path root() {
        return versions.root();
    }

    /** A version's directory. */
    public Path dir(long version) {
        return versions.dir(version);
    }

    /** Member m's reward-model checkpoint of a version (what the reward stream loads). */
    public Path memberDir(long version, int member) {
        return dir(version).resolve("member-" + member);
    }

    /** Saves atomically; returns the version's directory. */
    public Path save(RmCheckpoint c) {
        return versions.write(c.version(), dir -> {
            Map<String, byte[]> listed = new TreeMap<>();
            for (int m = 0; m < c.members().size(); m++) {
                Path member = dir.resolve("member-" + m);
                CheckpointStore.save(c.members().get(m), member);
                listed.put("member-" + m + "/" + CheckpointStore.MANIFEST,
                        Files.readAllBytes(member.resolve(CheckpointStore.MANIFEST)));
            }
            byte[] state = JSON.writeValueAsBytes(stateJson(c));
            Files.write(dir.resolve(STATE), state);
            listed.put(STATE, state);
            return listed;
        });
    }

    /** Versions present, ascending. */
    public List<Long> versions() {
        return versions.versions();
    }

    /** The newest checkpoint that verifies; removes leftovers of interrupted saves (one trainer owns the directory). */
    public Optional<RmCheckpoint> loadNewest() {
        versions.removeTemporaries();
        return versions.loadNewest(this::load);
    }

    /** Loads and verifies one version. */
    public RmCheckpoint load(long version) {
        Path dir = dir(version);
        try {
            byte[] state = Files.readAllBytes(dir.resolve(STATE));
            versions.verify(version, Map.of(STATE, state));
            JsonNode s = JSON.readTree(state);
            if (s.path("version").asLong(-1) != version) {
                throw new CheckpointException("checkpoint " + dir + " says it is version " + s.path("version").asText());
            }
            int members = s.path("members").asInt();
            List<Checkpoint> out = new ArrayList<>(members);
            for (int m = 0; m < members; m++) {
                Path member = memberDir(version, m);
                versions.verify(version, Map.of("member-" + m + "/" + CheckpointStore.MANIFEST,
                        Files.readAllBytes(member.resolve(CheckpointStore.MANIFEST))));
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

    /**
     * A saved version as one byte array, everything {@link #load} needs to resume from it on another machine: a
     * stored zip of its directory ({@code trainer.json}, {@code manifest.json}, {@code member-m/}), what the trainer
     * publishes as its state with each version ({@code rm.state.topic.enabled}).
     *
     * @throws CheckpointException naming the directory when it cannot be read
     */
    public byte[] toBytes(long version) {
        return versions.archive(version);
    }

    /**
     * Writes version {@code version} from an archive {@link #toBytes} made (in another store: the state published on
     * {@code rm.versions}), then loads and verifies it as any checkpoint. A directory of that version already here
     * (one that did not verify, or the caller would not install) is replaced.
     *
     * @throws CheckpointException naming the entry or file that is missing, malformed or fails its check
     */
    public RmCheckpoint install(long version, byte[] archive) {
        String where = "reward-model trainer state archive of version " + version;
        Map<String, byte[]> files = VersionedDirectory.unarchive(archive, where);
        if (!files.containsKey(STATE) || !files.containsKey(VersionedDirectory.MANIFEST)) {
            throw new CheckpointException(where + " holds no " + STATE + " or " + VersionedDirectory.MANIFEST);
        }
        versions.discard(version);
        versions.install(version, files);
        return load(version);
    }

    /** Lower-case hex sha256 of member m's manifest, the digest {@code RewardModelVersion.sha256} carries. */
    public String memberSha256(long version, int member) {
        return versions.manifestSha256(memberDir(version, member));
    }

    /** Total bytes of member m's checkpoint. */
    public long memberSize(long version, int member) {
        return versions.size(memberDir(version, member));
    }

    /** Deletes all but the newest {@code keep} versions. */
    public void prune(int keep) {
        versions.prune(keep);
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
}
