package io.streamrlhf.learner.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
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
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learner checkpoints in one directory, one sub-directory per version:
 *
 * <pre>
 *   v000000000012/
 *     policy/          a models checkpoint (CheckpointStore): weights, AdamW moments, its own manifest
 *     learner.json     version, parent, updates, optimiser steps, reward-scaler state, offsets, metrics
 *     ledger.tsv.gz    every consumed generation: update, outcome, id
 *     manifest.json    sha256 and size of learner.json, ledger.tsv.gz and policy/manifest.json
 * </pre>
 *
 * A save writes everything into a hidden temporary sibling and renames it into place, so a crash
 * leaves either the complete checkpoint or none (temporaries are removed on the next start).
 * {@link #loadNewest()} returns the highest version that verifies and warns about any newer one
 * that does not.
 */
public final class LearnerCheckpointStore {

    private static final Logger LOG = LoggerFactory.getLogger(LearnerCheckpointStore.class);
    private static final Pattern NAME = Pattern.compile("v(\\d{12})");
    private static final String POLICY = "policy";
    private static final String STATE = "learner.json";
    private static final String LEDGER = "ledger.tsv.gz";
    private static final String MANIFEST = "manifest.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path root;

    /** A store rooted at {@code root} (created when missing). */
    public LearnerCheckpointStore(Path root) {
        this.root = root.toAbsolutePath();
        try {
            Files.createDirectories(this.root);
        } catch (IOException e) {
            throw new CheckpointException("cannot create checkpoint directory " + root + ": " + e.getMessage(), e);
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

    /** The policy checkpoint inside a version's directory (what workers load). */
    public Path policyDir(long version) {
        return dir(version).resolve(POLICY);
    }

    /** Saves atomically; returns the version's directory. */
    public Path save(LearnerCheckpoint c) {
        Path target = dir(c.version());
        if (Files.exists(target)) {
            throw new CheckpointException("checkpoint " + target + " already exists; versions are written once");
        }
        Path tmp = root.resolve(".tmp-" + target.getFileName() + "-" + UUID.randomUUID());
        try {
            Files.createDirectories(tmp);
            CheckpointStore.save(c.policy(), tmp.resolve(POLICY));
            byte[] state = JSON.writeValueAsBytes(stateJson(c));
            byte[] ledger = ledgerBytes(c.ledger());
            Files.write(tmp.resolve(STATE), state);
            Files.write(tmp.resolve(LEDGER), ledger);
            byte[] policyManifest = Files.readAllBytes(tmp.resolve(POLICY).resolve(CheckpointStore.MANIFEST));
            Files.write(tmp.resolve(MANIFEST), JSON.writeValueAsBytes(manifest(Map.of(STATE, state, LEDGER, ledger,
                    POLICY + "/" + CheckpointStore.MANIFEST, policyManifest))));
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target);
            }
            return target;
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new CheckpointException("cannot save learner checkpoint " + target + ": " + e.getMessage(), e);
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

    /** The newest checkpoint that verifies, if any; removes leftovers of interrupted saves. */
    public Optional<LearnerCheckpoint> loadNewest() {
        removeTemporaries();
        List<Long> versions = versions();
        for (int i = versions.size() - 1; i >= 0; i--) {
            try {
                return Optional.of(load(versions.get(i)));
            } catch (CheckpointException e) {
                LOG.warn("skipping checkpoint version {}: {}", versions.get(i), e.getMessage());
            }
        }
        return Optional.empty();
    }

    /** Loads and verifies one version. */
    public LearnerCheckpoint load(long version) {
        Path dir = dir(version);
        try {
            byte[] state = Files.readAllBytes(dir.resolve(STATE));
            byte[] ledger = Files.readAllBytes(dir.resolve(LEDGER));
            byte[] policyManifest = Files.readAllBytes(dir.resolve(POLICY).resolve(CheckpointStore.MANIFEST));
            verify(dir, Map.of(STATE, state, LEDGER, ledger, POLICY + "/" + CheckpointStore.MANIFEST, policyManifest));
            Checkpoint policy = CheckpointStore.load(dir.resolve(POLICY));
            JsonNode s = JSON.readTree(state);
            Map<String, Long> offsets = new TreeMap<>();
            s.path("offsets").fields().forEachRemaining(e -> offsets.put(e.getKey(), e.getValue().asLong()));
            Map<String, Double> metrics = new LinkedHashMap<>();
            s.path("metrics").fields().forEachRemaining(e -> metrics.put(e.getKey(), e.getValue().asDouble()));
            JsonNode m = s.path("scoreMoments");
            double[] moments = {m.path(0).asDouble(), m.path(1).asDouble(), m.path(2).asDouble()};
            if (s.path("version").asLong(-1) != version) {
                throw new CheckpointException("checkpoint " + dir + " says it is version " + s.path("version").asText());
            }
            return new LearnerCheckpoint(version, s.path("parentVersion").asLong(), s.path("updates").asLong(),
                    s.path("optimizerSteps").asLong(), moments, policy, offsets, parseLedger(ledger), metrics);
        } catch (IOException e) {
            throw new CheckpointException("checkpoint " + dir + " is unreadable: " + e.getMessage(), e);
        }
    }

    /** Hex sha256 of a version's manifest (what {@code PolicyVersion.sha256} carries). */
    public String manifestSha256(long version) {
        try {
            return CheckpointStore.sha256(Files.readAllBytes(policyDir(version).resolve(CheckpointStore.MANIFEST)));
        } catch (IOException e) {
            throw new CheckpointException("cannot read the manifest of version " + version + ": " + e.getMessage(), e);
        }
    }

    /** Total bytes of a version's policy checkpoint. */
    public long policySize(long version) {
        try (Stream<Path> files = Files.walk(policyDir(version))) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes all but the newest {@code keep} versions. */
    public void prune(int keep) {
        List<Long> versions = versions();
        for (int i = 0; i < versions.size() - keep; i++) {
            deleteQuietly(dir(versions.get(i)));
        }
    }

    private void removeTemporaries() {
        try (Stream<Path> list = Files.list(root)) {
            list.filter(p -> p.getFileName().toString().startsWith(".tmp-")).forEach(p -> {
                LOG.info("removing {} left by an interrupted save", p.getFileName());
                deleteQuietly(p);
            });
        } catch (IOException e) {
            throw new CheckpointException("cannot list " + root + ": " + e.getMessage(), e);
        }
    }

    private static ObjectNode stateJson(LearnerCheckpoint c) {
        ObjectNode s = JSON.createObjectNode();
        s.put("formatVersion", 1);
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
        s.put("ledgerEntries", c.ledger().size());
        return s;
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

    private static void verify(Path dir, Map<String, byte[]> files) throws IOException {
        Path manifestPath = dir.resolve(MANIFEST);
        if (!Files.exists(manifestPath)) {
            throw new CheckpointException("checkpoint " + dir + ": " + MANIFEST + " is missing");
        }
        JsonNode listed = JSON.readTree(Files.readAllBytes(manifestPath)).path("files");
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            String expected = listed.path(f.getKey()).path("sha256").asText("");
            String actual = CheckpointStore.sha256(f.getValue());
            if (!expected.equals(actual)) {
                throw new CheckpointException("checkpoint " + dir + ": " + f.getKey() + " fails its sha256 check "
                        + "(manifest '" + expected + "', file " + actual + ")");
            }
        }
    }

    private static byte[] ledgerBytes(List<LedgerEntry> ledger) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Writer w = new OutputStreamWriter(new GZIPOutputStream(bytes), StandardCharsets.UTF_8)) {
            for (LedgerEntry e : ledger) {
                w.write(e.toLine());
                w.write('\n');
            }
        }
        return bytes.toByteArray();
    }

    private static List<LedgerEntry> parseLedger(byte[] bytes) throws IOException {
        List<LedgerEntry> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                new GZIPInputStream(new ByteArrayInputStream(bytes)), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (!line.isEmpty()) {
                    out.add(LedgerEntry.parse(line));
                }
            }
        }
        return out;
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
