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
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

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

    private static final String POLICY = "policy";
    private static final String STATE = "learner.json";
    private static final String LEDGER = "ledger.tsv.gz";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final VersionedDirectory versions;

    /** A store rooted at {@code root} (created when missing). */
    public LearnerCheckpointStore(Path root) {
        this.versions = new VersionedDirectory(root, "checkpoint");
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

    /** Saves atomically; returns the version's directory. */
    public Path save(LearnerCheckpoint c) {
        return versions.write(c.version(), dir -> {
            CheckpointStore.save(c.policy(), dir.resolve(POLICY));
            byte[] state = JSON.writeValueAsBytes(stateJson(c));
            byte[] ledger = ledgerBytes(c.ledger());
            Files.write(dir.resolve(STATE), state);
            Files.write(dir.resolve(LEDGER), ledger);
            byte[] policyManifest = Files.readAllBytes(dir.resolve(POLICY).resolve(CheckpointStore.MANIFEST));
            return Map.of(STATE, state, LEDGER, ledger, POLICY + "/" + CheckpointStore.MANIFEST, policyManifest);
        });
    }

    /** Versions present (complete or not), ascending. */
    public List<Long> versions() {
        return versions.versions();
    }

    /**
     * The newest checkpoint that verifies, if any; removes leftovers of interrupted saves and warns about any newer
     * version that does not verify.
     */
    public Optional<LearnerCheckpoint> loadNewest() {
        return versions.loadNewest(this::load);
    }

    /** Loads and verifies one version. */
    public LearnerCheckpoint load(long version) {
        Path dir = dir(version);
        try {
            byte[] state = Files.readAllBytes(dir.resolve(STATE));
            byte[] ledger = Files.readAllBytes(dir.resolve(LEDGER));
            byte[] policyManifest = Files.readAllBytes(dir.resolve(POLICY).resolve(CheckpointStore.MANIFEST));
            versions.verify(version, Map.of(STATE, state, LEDGER, ledger, POLICY + "/" + CheckpointStore.MANIFEST,
                    policyManifest));
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
        return versions.manifestSha256(policyDir(version));
    }

    /** Total bytes of a version's policy checkpoint. */
    public long policySize(long version) {
        return versions.size(policyDir(version));
    }

    /** Deletes all but the newest {@code keep} versions. */
    public void prune(int keep) {
        versions.prune(keep);
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
}
