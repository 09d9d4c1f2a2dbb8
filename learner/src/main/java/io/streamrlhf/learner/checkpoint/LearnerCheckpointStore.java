package io.streamrlhf.learner.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learner checkpoints in one directory, one sub-directory per version, and the ledger they share:
 *
 * <pre>
 *   v000000000012/
 *     policy/          a models checkpoint (CheckpointStore): weights, AdamW moments, its own manifest
 *     critic/          with a separate critic only: its models checkpoint (weights, AdamW moments)
 *     learner.json     version, parent, updates, optimiser steps, reward-scaler state, offsets, metrics,
 *                      the ledger's segments (file, level, updates covered, entries, sha256, size), and
 *                      "critic": "critic" when there is one
 *     manifest.json    sha256 and size of learner.json, policy/manifest.json (and critic/manifest.json)
 *   ledger/
 *     seg-000000000011-000000000012-0123456789ab.tsv.gz   immutable segments (see {@link SegmentedLedger})
 * </pre>
 *
 * A save writes the version into a hidden temporary sibling and renames it into place, so a crash leaves either the
 * complete checkpoint or none (temporaries are removed on the next start); the segment it lists was written (also
 * atomically) before it by {@link #appendLedger}. Loading checks the manifest, then every listed segment's size and
 * sha256: a missing or altered segment makes the checkpoint fail like any other corruption, and
 * {@link #loadNewest()} returns the highest version that verifies, warning about any newer one that does not.
 *
 * <p>Leader epochs (standby learners, docs/learner.md): a checkpoint saved with an epoch carries it in
 * {@code learner.json} as {@code leaderEpoch}. A save refuses ({@link CheckpointFencedException}) when any version on
 * disk has a higher epoch, since its writer took over after this learner, and sets aside a same-numbered version of a
 * lower epoch, which a fenced leader wrote after this one had resumed below it; {@link #loadNewest(long, long)} skips
 * such versions too. The rename that publishes a version never replaces one, so of two writers racing for a number
 * only one succeeds.
 *
 * <p>A checkpoint without a separate critic is written exactly as before critics existed, and those load with
 * {@link LearnerCheckpoint#critic()} null.
 *
 * <p>Format-1 checkpoints (the whole ledger in {@code v.../ledger.tsv.gz}, entries without positions) still load:
 * their ledger becomes a one-segment chain of format 1, which the next {@link #appendLedger} copies into the ledger
 * directory.
 */
public final class LearnerCheckpointStore {

    private static final Logger LOG = LoggerFactory.getLogger(LearnerCheckpointStore.class);
    private static final String POLICY = "policy";
    private static final String CRITIC = "critic";
    private static final String STATE = "learner.json";
    private static final String LEGACY_LEDGER = "ledger.tsv.gz";
    private static final int FORMAT_VERSION = 2;
    private static final String LEADER_EPOCH = "leaderEpoch";
    /** The epoch of a checkpoint written without leader election (and of those written before it existed). */
    public static final long NO_EPOCH = -1;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Where an archive ({@link #toBytes}) holds the files of the version's own directory. */
    static final String ARCHIVE_VERSION = "version/";
    /** The largest archive: one Java byte array. */
    static final long MAX_ARCHIVE_BYTES = Integer.MAX_VALUE - 8;
    /** Zip bytes per entry beyond its data (headers with a name of up to about 100 characters), for sizing. */
    private static final int ARCHIVE_ENTRY_OVERHEAD = 256;
    /** 1980-01-01 UTC, the earliest time a zip entry holds. */
    private static final long ARCHIVE_TIME = 315_532_800_000L;

    private final VersionedDirectory versions;
    private final SegmentedLedger ledger;
    /** Versions {@link #loadNewest()} skipped as unverifiable: a learner that fell back writes them again. */
    private final Set<Long> skipped = new HashSet<>();

    /** A store rooted at {@code root} (created when missing) merging ledger segments {@link
     * SegmentedLedger#DEFAULT_FANOUT} at a time. */
    public LearnerCheckpointStore(Path root) {
        this(root, SegmentedLedger.DEFAULT_FANOUT);
    }

    /**
     * A store rooted at {@code root} (created when missing).
     *
     * @param mergeFanout how many same-level ledger segments are merged into one (at least 2)
     */
    public LearnerCheckpointStore(Path root, int mergeFanout) {
        this.versions = new VersionedDirectory(root, "checkpoint");
        this.ledger = new SegmentedLedger(versions.root(), mergeFanout);
    }

    /** The root directory. */
    public Path root() {
        return versions.root();
    }

    /** The directory of a version. */
    public Path dir(long version) {
        return versions.dir(version);
    }

    /** The policy checkpoint inside a version's directory (what workers load). */
    public Path policyDir(long version) {
        return dir(version).resolve(POLICY);
    }

    /** The segment files of the ledger. */
    public SegmentedLedger ledger() {
        return ledger;
    }

    /**
     * Writes the entries of the updates since the checkpoint whose chain is {@code previous} as a new segment (merging
     * where due) and returns the chain the next checkpoint lists. Call before {@link #save}; a crash in between
     * leaves an unreferenced segment that {@link #prune} removes.
     *
     * @param previous the newest checkpoint's {@link LearnerCheckpoint#ledger()} (empty when there is none)
     * @param added    entries of the updates after it, in update order
     */
    public List<LedgerSegment> appendLedger(List<LedgerSegment> previous, List<LedgerEntry> added) {
        return ledger.append(previous, added);
    }

    /** Every entry of a checkpoint's ledger, oldest first (its segments concatenated in order). */
    public List<LedgerEntry> readLedger(LearnerCheckpoint c) {
        return ledger.readAll(c.ledger());
    }

    /** Streams a checkpoint's ledger, oldest first, without holding it in memory. */
    public void forEachLedgerEntry(LearnerCheckpoint c, Consumer<LedgerEntry> action) {
        ledger.forEach(c.ledger(), action);
    }

    /**
     * Saves atomically; returns the version's directory. The ledger segments the checkpoint lists must already be
     * written ({@link #appendLedger}). A version that exists but {@link #loadNewest()} skipped, or that does not
     * verify, is moved aside to {@code rejected-v...} first: the learner fell back past it and commits its own
     * version under that number (what was there stays for an operator to inspect).
     */
    public Path save(LearnerCheckpoint c) {
        return save(c, NO_EPOCH);
    }

    /**
     * Saves as {@link #save(LearnerCheckpoint)}, stamped with the writer's leader epoch. Before writing, a version on
     * disk with a higher epoch means a newer leader took over: nothing is written. A version of the same number and
     * a lower epoch was written by a fenced leader after this one resumed from a lower version (a leader only writes
     * versions above the one it resumed from), and is moved aside to {@code rejected-v...}.
     *
     * @param leaderEpoch the writer's epoch, or {@link #NO_EPOCH} to check nothing
     * @throws CheckpointFencedException when a newer leader has written a checkpoint here
     */
    public Path save(LearnerCheckpoint c, long leaderEpoch) {
        return save(c, leaderEpoch, List.of());
    }

    /**
     * Saves as {@link #save(LearnerCheckpoint, long)}, with the dead letters the version covers ({@link DeadLetterFile},
     * listed in the manifest): they are published with the version, and {@link #deadLetters} gives them back to a
     * learner that restarts after saving and before publishing.
     */
    public Path save(LearnerCheckpoint c, long leaderEpoch, List<ProducerRecord<byte[], byte[]>> deadLetters) {
        if (leaderEpoch != NO_EPOCH) {
            for (long v : versions()) {
                long e = leaderEpoch(v);
                if (e > leaderEpoch) {
                    throw new CheckpointFencedException("not writing checkpoint version " + c.version() + ": version "
                            + v + " in " + root() + " was written by leader epoch " + e + ", newer than this "
                            + "learner's " + leaderEpoch + " (another learner took over; if the learner.lease topic was "
                            + "deleted and created again, epochs restarted: move the older checkpoints away)");
                }
                if (v == c.version() && e < leaderEpoch) {
                    setAside(v, "written by the fenced leader epoch " + e + " after epoch " + leaderEpoch
                            + " took over");
                }
            }
        }
        for (LedgerSegment s : c.ledger()) {
            if (s.format() != SegmentedLedger.FORMAT) {
                throw new IllegalArgumentException("checkpoint " + c.version() + " lists the format-1 ledger " + s.file()
                        + "; appendLedger copies it into a segment first");
            }
        }
        setAsideIfUnverified(c.version());
        return versions.write(c.version(), dir -> {
            CheckpointStore.save(c.policy(), dir.resolve(POLICY));
            ObjectNode stateJson = stateJson(c);
            if (leaderEpoch != NO_EPOCH) {
                stateJson.put(LEADER_EPOCH, leaderEpoch);
            }
            byte[] state = JSON.writeValueAsBytes(stateJson);
            Files.write(dir.resolve(STATE), state);
            Map<String, byte[]> listed = new LinkedHashMap<>();
            listed.put(STATE, state);
            listed.put(POLICY + "/" + CheckpointStore.MANIFEST,
                    Files.readAllBytes(dir.resolve(POLICY).resolve(CheckpointStore.MANIFEST)));
            if (c.critic() != null) {
                CheckpointStore.save(c.critic(), dir.resolve(CRITIC));
                listed.put(CRITIC + "/" + CheckpointStore.MANIFEST,
                        Files.readAllBytes(dir.resolve(CRITIC).resolve(CheckpointStore.MANIFEST)));
            }
            if (!deadLetters.isEmpty()) {
                byte[] letters = DeadLetterFile.encode(deadLetters);
                Files.write(dir.resolve(DeadLetterFile.NAME), letters);
                listed.put(DeadLetterFile.NAME, letters);
            }
            return listed;
        });
    }

    /**
     * The dead letters saved with a version (empty when it had none).
     *
     * @throws CheckpointException when the file is unreadable or fails its manifest check: publishing the version
     *                             without them would lose them
     */
    public List<ProducerRecord<byte[], byte[]>> deadLetters(long version) {
        Path file = dir(version).resolve(DeadLetterFile.NAME);
        if (!Files.exists(file)) {
            return List.of();
        }
        try {
            byte[] bytes = Files.readAllBytes(file);
            versions.verify(version, Map.of(DeadLetterFile.NAME, bytes));
            return DeadLetterFile.decode(bytes);
        } catch (IOException e) {
            throw new CheckpointException("checkpoint " + dir(version) + ": " + DeadLetterFile.NAME + " is unreadable: "
                    + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException("checkpoint " + dir(version) + ": " + e.getMessage(), e);
        }
    }

    /** Versions present (complete or not), ascending. */
    public List<Long> versions() {
        return versions.versions();
    }

    /**
     * Removes what saves that did not finish left: temporary version directories and ledger segments. Only the
     * learner that writes here may call it, once it leads (docs/learner.md "Standby learners"): learners of one
     * policy may share the directory, and a save in progress looks the same as an interrupted one.
     */
    public void removeLeftovers() {
        ledger.removeTemporaries();
        versions.removeTemporaries();
    }

    /**
     * The newest checkpoint that verifies, if any; warns about any newer version that does not verify. Reads only:
     * leftovers of saves in progress or interrupted are ignored ({@link #removeLeftovers()}).
     */
    public Optional<LearnerCheckpoint> loadNewest() {
        return versions.loadNewest(v -> {
            try {
                return load(v);
            } catch (CheckpointException e) {
                skipped.add(v);
                throw e;
            }
        });
    }

    /**
     * The newest checkpoint that verifies and that no takeover fenced: a version above {@code takeoverBase} with an
     * epoch below {@code takeoverEpoch} was written by a leader after the learner of {@code takeoverEpoch} had taken
     * over from {@code takeoverBase}, so it is skipped (and set aside when that number is written again).
     *
     * @param takeoverEpoch the newest takeover's leader epoch ({@link #NO_EPOCH}: none, load as {@link #loadNewest()})
     * @param takeoverBase  the version that takeover resumed from
     */
    public Optional<LearnerCheckpoint> loadNewest(long takeoverEpoch, long takeoverBase) {
        return versions.loadNewest(v -> {
            long e = leaderEpoch(v);
            if (takeoverEpoch != NO_EPOCH && v > takeoverBase && e < takeoverEpoch) {
                skipped.add(v);
                throw new CheckpointException("written by leader epoch " + e + " after epoch " + takeoverEpoch
                        + " took over from version " + takeoverBase + " (a fenced leader's)");
            }
            try {
                return load(v);
            } catch (CheckpointException ex) {
                skipped.add(v);
                throw ex;
            }
        });
    }

    /** The leader epoch a version was written with; {@link #NO_EPOCH} when it has none or cannot be read. */
    public long leaderEpoch(long version) {
        try {
            return JSON.readTree(Files.readAllBytes(dir(version).resolve(STATE))).path(LEADER_EPOCH).asLong(NO_EPOCH);
        } catch (IOException | RuntimeException e) {
            return NO_EPOCH;
        }
    }

    /**
     * Moves a version this learner wrote aside ({@code rejected-v...}) when its publication was fenced, so that no
     * reader takes it for the newest; a version of another epoch is left alone.
     *
     * @return whether it was moved
     */
    public boolean discard(long version, long leaderEpoch) {
        if (!Files.exists(dir(version)) || leaderEpoch(version) != leaderEpoch) {
            return false;
        }
        setAside(version, "its writer (leader epoch " + leaderEpoch + ") was fenced before publishing it");
        return true;
    }

    /**
     * Loads and verifies one version: its manifest, then every ledger segment it lists (read in full to check the
     * sha256; the entries are not kept).
     *
     * @throws CheckpointException naming the file that is missing or fails its check
     */
    public LearnerCheckpoint load(long version) {
        Path dir = dir(version);
        try {
            byte[] state = Files.readAllBytes(dir.resolve(STATE));
            byte[] policyManifest = Files.readAllBytes(dir.resolve(POLICY).resolve(CheckpointStore.MANIFEST));
            JsonNode s = JSON.readTree(state);
            int format = s.path("formatVersion").asInt(1);
            Map<String, byte[]> listed = new LinkedHashMap<>();
            listed.put(STATE, state);
            listed.put(POLICY + "/" + CheckpointStore.MANIFEST, policyManifest);
            byte[] legacyLedger = null;
            if (format == 1) {
                legacyLedger = Files.readAllBytes(dir.resolve(LEGACY_LEDGER));
                listed.put(LEGACY_LEDGER, legacyLedger);
            }
            String critic = s.path(CRITIC).asText("");
            if (!critic.isEmpty()) {
                if (!CRITIC.equals(critic)) {
                    throw new CheckpointException("checkpoint " + dir + ": " + STATE + " names the critic '" + critic
                            + "', expected '" + CRITIC + "'");
                }
                listed.put(CRITIC + "/" + CheckpointStore.MANIFEST,
                        Files.readAllBytes(dir.resolve(CRITIC).resolve(CheckpointStore.MANIFEST)));
            }
            versions.verify(version, listed);
            if (s.path("version").asLong(-1) != version) {
                throw new CheckpointException("checkpoint " + dir + " says it is version " + s.path("version").asText());
            }
            List<LedgerSegment> chain;
            if (format == 1) {
                chain = legacyChain(version, legacyLedger);
            } else if (format == FORMAT_VERSION) {
                chain = parseChain(dir, s.path("ledger"));
                for (LedgerSegment seg : chain) {
                    try {
                        ledger.verify(seg);
                    } catch (CheckpointException e) {
                        throw new CheckpointException("checkpoint " + dir + ": " + e.getMessage(), e);
                    }
                }
            } else {
                throw new CheckpointException("checkpoint " + dir + " has format " + format + "; this learner reads "
                        + "formats 1 and " + FORMAT_VERSION);
            }
            Checkpoint policy = CheckpointStore.load(dir.resolve(POLICY));
            Checkpoint criticWeights = critic.isEmpty() ? null : CheckpointStore.load(dir.resolve(CRITIC));
            Map<String, Long> offsets = new TreeMap<>();
            s.path("offsets").fields().forEachRemaining(e -> offsets.put(e.getKey(), e.getValue().asLong()));
            Map<String, Double> metrics = new LinkedHashMap<>();
            s.path("metrics").fields().forEachRemaining(e -> metrics.put(e.getKey(), e.getValue().asDouble()));
            JsonNode m = s.path("scoreMoments");
            double[] moments = {m.path(0).asDouble(), m.path(1).asDouble(), m.path(2).asDouble()};
            return new LearnerCheckpoint(version, s.path("parentVersion").asLong(), s.path("updates").asLong(),
                    s.path("optimizerSteps").asLong(), moments, policy, offsets, chain, metrics, criticWeights);
        } catch (IOException e) {
            throw new CheckpointException("checkpoint " + dir + " is unreadable: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException("checkpoint " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * A saved version as one byte array, everything {@link #load} needs to resume from it on another machine: a zip
     * archive (entries stored, not compressed: weights barely compress and the ledger is gzip already) of the files
     * of the version's directory under {@value #ARCHIVE_VERSION} ({@code learner.json}, {@code manifest.json},
     * {@code policy/}, {@code critic/}) and of the ledger segments it lists under their own names
     * ({@code ledger/seg-...}). The whole ledger travels with every version, so the archive grows with it.
     *
     * @param c a version saved in this store (its ledger chain is read from it)
     * @throws CheckpointException naming the file that is missing or no longer matches the chain
     */
    public byte[] toBytes(LearnerCheckpoint c) {
        Path dir = dir(c.version());
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new CheckpointException("cannot list checkpoint " + dir + ": " + e.getMessage(), e);
        }
        // One byte array holds the archive: refuse by name rather than fail inside the JDK, and size it once.
        long total = c.ledger().stream().filter(s -> s.format() == SegmentedLedger.FORMAT)
                .mapToLong(LedgerSegment::size).sum();
        for (Path p : files) {
            total += p.toFile().length();
        }
        long estimate = total + ARCHIVE_ENTRY_OVERHEAD * (files.size() + c.ledger().size() + 1L);
        if (estimate > MAX_ARCHIVE_BYTES) {
            throw new CheckpointException("checkpoint " + dir + " is " + total + " bytes with its ledger, more than "
                    + "the " + MAX_ARCHIVE_BYTES + " one learner-state archive holds; keep the state in a shared "
                    + "directory (learner.state.topic.enabled=false)");
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) estimate);
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.setMethod(ZipOutputStream.STORED);
            for (Path p : files) {
                String name = dir.relativize(p).toString().replace('\\', '/');
                putStored(zip, ARCHIVE_VERSION + name, Files.readAllBytes(p));
            }
            for (LedgerSegment seg : c.ledger()) {
                if (seg.format() != SegmentedLedger.FORMAT) {
                    continue;  // a format-1 ledger lives in the version's directory, archived above
                }
                byte[] data = Files.readAllBytes(ledger.path(seg));
                if (data.length != seg.size() || !CheckpointStore.sha256(data).equals(seg.sha256())) {
                    throw new CheckpointException("checkpoint " + dir + ": ledger segment " + seg.file()
                            + " no longer matches the size and sha256 its chain lists");
                }
                putStored(zip, seg.file(), data);
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot archive checkpoint " + dir + ": " + e.getMessage(), e);
        }
        return bytes.toByteArray();
    }

    /**
     * Writes version {@code version} from an archive {@link #toBytes} made (in another store: the learner state a
     * leader published on Kafka), then loads and verifies it as any checkpoint: its ledger segments first (where this
     * store lacks them), then the version's directory atomically, with the archived manifest and the writer's leader
     * epoch. A version of that number already here is moved aside to {@code rejected-v...} first: the caller installs
     * only what it trusts more (the published state) than what it has.
     *
     * @throws CheckpointException naming the entry or file that is malformed, unexpected or fails its check
     */
    public LearnerCheckpoint install(long version, byte[] archive) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        Map<String, byte[]> segments = new LinkedHashMap<>();
        String where = "learner state archive of version " + version;
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(archive))) {
            ZipEntry e;
            while ((e = zip.getNextEntry()) != null) {
                String name = e.getName();
                if (e.isDirectory()) {
                    continue;
                }
                byte[] data = zip.readAllBytes();
                if (name.startsWith(ARCHIVE_VERSION) && name.length() > ARCHIVE_VERSION.length()) {
                    String rel = name.substring(ARCHIVE_VERSION.length());
                    if (rel.startsWith("/") || rel.contains("\\") || List.of(rel.split("/")).contains("..")) {
                        throw new CheckpointException(where + ": entry '" + name + "' leaves the version's directory");
                    }
                    files.put(rel, data);
                } else if (name.startsWith(SegmentedLedger.DIR + "/")) {
                    segments.put(name, data);
                } else {
                    throw new CheckpointException(where + ": unexpected entry '" + name + "' (expected "
                            + ARCHIVE_VERSION + "... or " + SegmentedLedger.DIR + "/seg-...)");
                }
            }
        } catch (IOException e) {
            throw new CheckpointException(where + " is not a readable zip archive: " + e.getMessage(), e);
        }
        if (!files.containsKey(STATE) || !files.containsKey(VersionedDirectory.MANIFEST)) {
            throw new CheckpointException(where + " holds no " + ARCHIVE_VERSION + STATE + " or "
                    + ARCHIVE_VERSION + VersionedDirectory.MANIFEST);
        }
        segments.forEach(ledger::install);
        if (Files.exists(dir(version))) {
            setAside(version, "replaced by the learner state published with version " + version);
        }
        versions.install(version, files);
        try {
            return load(version);
        } catch (CheckpointException e) {
            skipped.add(version);  // so that a save of this number sets it aside rather than failing
            throw e;
        }
    }

    private static void putStored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry entry = new ZipEntry(name);
        CRC32 crc = new CRC32();
        crc.update(data);
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(data.length);
        entry.setCompressedSize(data.length);
        entry.setCrc(crc.getValue());
        entry.setTime(ARCHIVE_TIME);  // a fixed time: the same checkpoint archives to the same bytes
        zip.putNextEntry(entry);
        zip.write(data);
        zip.closeEntry();
    }

    /** Hex sha256 of a version's manifest (what {@code PolicyVersion.sha256} carries). */
    public String manifestSha256(long version) {
        return versions.manifestSha256(policyDir(version));
    }

    /** Total bytes of a version's policy checkpoint. */
    public long policySize(long version) {
        return versions.size(policyDir(version));
    }

    /** Total bytes of a version's own directory (policy, state, manifest; not the shared ledger segments). */
    public long checkpointSize(long version) {
        return versions.size(dir(version));
    }

    /**
     * Deletes all but the newest {@code keep} versions, then the ledger segments no remaining version lists. When a
     * remaining version's state cannot be read, no segment is deleted (its references are unknown).
     */
    public void prune(int keep) {
        versions.prune(keep);
        Set<String> referenced = new HashSet<>();
        for (long v : versions()) {
            Path state = dir(v).resolve(STATE);
            try {
                JsonNode s = JSON.readTree(Files.readAllBytes(state));
                for (JsonNode seg : s.path("ledger")) {
                    referenced.add(seg.path("file").asText());
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("not deleting ledger segments: cannot read {} ({})", state, e.getMessage());
                return;
            }
        }
        int deleted = ledger.deleteUnreferenced(referenced);
        if (deleted > 0) {
            LOG.debug("deleted {} ledger segment(s) no kept checkpoint lists", deleted);
        }
    }

    private void setAsideIfUnverified(long version) {
        Path target = dir(version);
        if (!Files.exists(target)) {
            return;
        }
        String why;
        if (skipped.contains(version)) {
            why = "a start skipped it as unverifiable";
        } else {
            try {
                load(version);
                return;  // a good one: writing it again is the caller's error, which VersionedDirectory reports
            } catch (CheckpointException e) {
                why = e.getMessage();
            }
        }
        setAside(version, why);
    }

    /** Moves a version to {@code rejected-v...-<uuid>} (kept for an operator to inspect). */
    private void setAside(long version, String why) {
        Path target = dir(version);
        Path aside = root().resolve("rejected-" + target.getFileName() + "-" + UUID.randomUUID());
        LOG.warn("moving checkpoint {} to {}: {}", target, aside.getFileName(), why);
        try {
            Files.move(target, aside);
        } catch (IOException io) {
            throw new CheckpointException("cannot move the checkpoint " + target + " aside: " + io.getMessage(), io);
        }
        skipped.remove(version);
    }

    private static ObjectNode stateJson(LearnerCheckpoint c) {
        ObjectNode s = JSON.createObjectNode();
        s.put("formatVersion", FORMAT_VERSION);
        s.put("version", c.version());
        s.put("parentVersion", c.parentVersion());
        s.put("updates", c.updates());
        s.put("optimizerSteps", c.optimizerSteps());
        s.putArray("scoreMoments").add(c.scoreMoments()[0]).add(c.scoreMoments()[1]).add(c.scoreMoments()[2]);
        ObjectNode offsets = s.putObject("offsets");
        new TreeMap<>(c.offsets()).forEach(offsets::put);
        ObjectNode metrics = s.putObject("metrics");
        c.metrics().forEach((k, v) -> {
            if (Double.isFinite(v)) {
                metrics.put(k, v);
            }
        });
        s.put("ledgerEntries", c.ledgerEntries());
        if (c.critic() != null) {
            s.put(CRITIC, CRITIC);
        }
        ArrayNode chain = s.putArray("ledger");
        for (LedgerSegment seg : c.ledger()) {
            ObjectNode n = chain.addObject();
            n.put("file", seg.file());
            n.put("format", seg.format());
            n.put("level", seg.level());
            n.put("firstUpdate", seg.firstUpdate());
            n.put("lastUpdate", seg.lastUpdate());
            n.put("entries", seg.entries());
            n.put("sha256", seg.sha256());
            n.put("size", seg.size());
        }
        return s;
    }

    private static List<LedgerSegment> parseChain(Path dir, JsonNode chain) {
        if (!chain.isArray()) {
            throw new CheckpointException("checkpoint " + dir + ": " + STATE + " has no ledger segment list");
        }
        List<LedgerSegment> out = new ArrayList<>();
        for (JsonNode n : chain) {
            String file = n.path("file").asText("");
            // Segments live in the ledger directory: a path elsewhere (or climbing out) is not one this store wrote.
            if (!file.matches(SegmentedLedger.DIR + "/seg-[0-9a-f-]+\\.tsv\\.gz")) {
                throw new CheckpointException("checkpoint " + dir + " lists '" + file + "', not a ledger segment");
            }
            try {
                out.add(new LedgerSegment(file, n.path("format").asInt(), n.path("level").asInt(),
                        n.path("firstUpdate").asLong(), n.path("lastUpdate").asLong(), n.path("entries").asLong(),
                        n.path("sha256").asText(""), n.path("size").asLong()));
            } catch (IllegalArgumentException e) {
                throw new CheckpointException("checkpoint " + dir + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    /** A format-1 checkpoint's whole ledger as a one-segment chain (empty when it holds no entries). */
    private List<LedgerSegment> legacyChain(long version, byte[] bytes) throws IOException {
        long entries = 0;
        long first = 0;
        long last = 0;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                new GZIPInputStream(new ByteArrayInputStream(bytes)), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isEmpty()) {
                    continue;
                }
                LedgerEntry e;
                try {
                    e = LedgerEntry.parse(line, 1);
                } catch (IllegalArgumentException ex) {
                    throw new CheckpointException("checkpoint " + dir(version) + ": " + ex.getMessage(), ex);
                }
                if (entries++ == 0) {
                    first = e.update();
                }
                last = e.update();
            }
        }
        if (entries == 0) {
            return List.of();
        }
        String file = root().relativize(dir(version).resolve(LEGACY_LEDGER)).toString().replace('\\', '/');
        return List.of(new LedgerSegment(file, 1, 0, first, last, entries, CheckpointStore.sha256(bytes),
                bytes.length));
    }
}
