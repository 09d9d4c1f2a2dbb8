package io.streamrlhf.models.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;

/*
 * CONTRACT: the one on-disk and on-wire checkpoint format. The learner saves with it, workers and the
 * reward stream load with it, checkpoint chunks on Kafka carry toBytes(...) output.
 */

/**
 * Writes, reads and verifies checkpoints.
 *
 * <p>Directory layout:
 * <pre>
 *   config.json      kind, architecture, model config, metadata, format version
 *   weights.ndlist   named parameters ({@link ModelWeights#encode})
 *   optimizer.bin    optional optimiser state
 *   model/NAME       optional files that travel with the weights ({@link Checkpoint#modelFiles()})
 *   manifest.json    {"formatVersion":1,"files":{"config.json":{"sha256":"...","size":123},...}}
 * </pre>
 * A save writes into a temporary sibling directory and renames it into place, so a reader never
 * sees a half-written checkpoint. Every load verifies each file against the manifest first.
 *
 * <p>Byte-stream form ({@link #toBytes}, {@link #write(Checkpoint, OutputStream)}): the same four
 * files as a sequence of entries: magic {@code "RLHFCKPT"}, format version (int), entry count
 * (int), then per entry its name (UTF), length (long) and bytes. The manifest travels along and
 * is verified on read.
 */
public final class CheckpointStore {

    /** Name of the config file. */
    public static final String CONFIG = "config.json";
    /** Name of the weights file. */
    public static final String WEIGHTS = "weights.ndlist";
    /** Name of the optional optimiser-state file. */
    public static final String OPTIMIZER = "optimizer.bin";
    /** Name of the manifest. */
    public static final String MANIFEST = "manifest.json";
    /** Folder of the model files ({@link Checkpoint#modelFiles()}), and the prefix of their entry names. */
    public static final String MODEL_FILES = "model/";
    /** Current format version. */
    public static final int FORMAT_VERSION = 1;

    /** The most entries a stream may hold: the four files, the manifest and the model files. */
    private static final int MAX_ENTRIES = 64;
    private static final byte[] MAGIC = "RLHFCKPT".getBytes(StandardCharsets.US_ASCII);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    private CheckpointStore() {
    }

    /**
     * Saves atomically into {@code dir} (created; an existing checkpoint there is replaced).
     *
     * @return {@code dir}
     */
    public static Path save(Checkpoint checkpoint, Path dir) {
        Map<String, byte[]> files = files(checkpoint);
        Path target = dir.toAbsolutePath();
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp-" + UUID.randomUUID());
        try {
            Files.createDirectories(target.getParent());
            Files.createDirectories(tmp);
            if (!checkpoint.modelFiles().isEmpty()) {
                Files.createDirectories(tmp.resolve(MODEL_FILES));
            }
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                Files.write(tmp.resolve(f.getKey()), f.getValue());
            }
            Path old = null;
            if (Files.exists(target)) {
                old = target.resolveSibling("." + target.getFileName() + ".old-" + UUID.randomUUID());
                move(target, old);
            }
            move(tmp, target);
            if (old != null) {
                deleteTree(old);
            }
            return dir;
        } catch (IOException e) {
            try {
                deleteTree(tmp);
            } catch (IOException ignored) {
                // best effort; the original error is what matters
            }
            throw new CheckpointException("cannot save checkpoint to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Loads a checkpoint directory after verifying it. */
    public static Checkpoint load(Path dir) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException("checkpoint " + dir + " is not a directory");
        }
        List<String> names = new ArrayList<>(List.of(MANIFEST, CONFIG, WEIGHTS, OPTIMIZER));
        Path modelDir = dir.resolve(MODEL_FILES);
        if (Files.isDirectory(modelDir)) {
            try (Stream<Path> listed = Files.list(modelDir)) {
                listed.map(p -> MODEL_FILES + p.getFileName()).sorted().forEach(names::add);
            } catch (IOException e) {
                throw new CheckpointException("checkpoint " + dir + ": cannot list " + MODEL_FILES + ": "
                        + e.getMessage(), e);
            }
        }
        for (String name : names) {
            Path p = dir.resolve(name);
            if (Files.exists(p)) {
                try {
                    files.put(name, Files.readAllBytes(p));
                } catch (IOException e) {
                    throw new CheckpointException("checkpoint " + dir + ": cannot read " + name + ": "
                            + e.getMessage(), e);
                }
            }
        }
        return fromFiles(dir.toString(), files);
    }

    /**
     * Verifies every file of a checkpoint directory against its manifest.
     *
     * @throws CheckpointException naming the first file that is missing, unlisted or changed
     */
    public static void verify(Path dir) {
        load(dir);
    }

    /** The byte-stream form of a checkpoint. */
    public static byte[] toBytes(Checkpoint checkpoint) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(checkpoint.weights().length + 4096);
        try {
            write(checkpoint, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Reads and verifies the byte-stream form. */
    public static Checkpoint fromBytes(byte[] bytes) {
        try {
            return read(new ByteArrayInputStream(bytes));
        } catch (IOException e) {
            throw new CheckpointException("checkpoint bytes: " + e.getMessage(), e);
        }
    }

    /**
     * The exact bytes of the {@code manifest.json} entry of a byte-stream checkpoint, the bytes a published sha256 is
     * over; reads only the entry table, without decoding or verifying the rest ({@link #fromBytes} does that).
     *
     * @throws CheckpointException when the stream is not a checkpoint, is truncated or holds no manifest
     */
    public static byte[] manifestOf(byte[] stream) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(stream))) {
            byte[] magic = new byte[MAGIC.length];
            in.readFully(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new CheckpointException("checkpoint stream: bad magic, not a StreamRLHF checkpoint");
            }
            in.readInt();  // format version: fromBytes checks it
            int n = in.readInt();
            for (int i = 0; i < n && i < MAX_ENTRIES; i++) {
                String name = in.readUTF();
                long len = in.readLong();
                if (len < 0 || len > stream.length) {
                    throw new CheckpointException("checkpoint stream: entry " + name + " has bad length " + len);
                }
                if (name.equals(MANIFEST)) {
                    byte[] manifest = new byte[(int) len];
                    in.readFully(manifest);
                    return manifest;
                }
                in.skipNBytes(len);
            }
        } catch (IOException e) {
            throw new CheckpointException("checkpoint stream: truncated (" + e + ")", e);
        }
        throw new CheckpointException("checkpoint stream: holds no " + MANIFEST);
    }

    /**
     * The entries of a byte-stream checkpoint by name, in stream order, without verifying them ({@link #fromBytes}
     * does); {@link CheckpointDelta} works on them.
     *
     * @throws CheckpointException when the stream is not a checkpoint or is truncated
     */
    static Map<String, byte[]> entries(byte[] stream) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(stream))) {
            byte[] magic = new byte[MAGIC.length];
            in.readFully(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new CheckpointException("checkpoint stream: bad magic, not a StreamRLHF checkpoint");
            }
            int version = in.readInt();
            if (version != FORMAT_VERSION) {
                throw new CheckpointException("checkpoint stream: format version " + version + " is not supported");
            }
            int n = in.readInt();
            if (n < 0 || n > MAX_ENTRIES) {
                throw new CheckpointException("checkpoint stream: implausible entry count " + n);
            }
            Map<String, byte[]> entries = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                String name = in.readUTF();
                long len = in.readLong();
                if (len < 0 || len > stream.length) {
                    throw new CheckpointException("checkpoint stream: entry " + name + " has bad length " + len);
                }
                entries.put(name, in.readNBytes((int) len));
                if (entries.get(name).length != len) {
                    throw new CheckpointException("checkpoint stream: entry " + name + " is truncated");
                }
            }
            return entries;
        } catch (IOException e) {
            throw new CheckpointException("checkpoint stream: truncated (" + e + ")", e);
        }
    }

    /** The byte-stream form of {@code entries}, in their order: the inverse of {@link #entries}. */
    static byte[] stream(Map<String, byte[]> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DataOutputStream data = new DataOutputStream(out)) {
            data.write(MAGIC);
            data.writeInt(FORMAT_VERSION);
            data.writeInt(entries.size());
            for (Map.Entry<String, byte[]> f : entries.entrySet()) {
                data.writeUTF(f.getKey());
                data.writeLong(f.getValue().length);
                data.write(f.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Writes the byte-stream form to {@code out} (not closed). */
    public static void write(Checkpoint checkpoint, OutputStream out) throws IOException {
        Map<String, byte[]> files = files(checkpoint);
        DataOutputStream data = new DataOutputStream(out);
        data.write(MAGIC);
        data.writeInt(FORMAT_VERSION);
        data.writeInt(files.size());
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            data.writeUTF(f.getKey());
            data.writeLong(f.getValue().length);
            data.write(f.getValue());
        }
        data.flush();
    }

    /** Reads and verifies the byte-stream form from {@code in} (not closed). */
    public static Checkpoint read(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        byte[] magic = new byte[MAGIC.length];
        try {
            data.readFully(magic);
        } catch (EOFException e) {
            throw new CheckpointException("checkpoint stream: shorter than its header");
        }
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new CheckpointException("checkpoint stream: bad magic, not a StreamRLHF checkpoint");
        }
        int version = data.readInt();
        if (version != FORMAT_VERSION) {
            throw new CheckpointException("checkpoint stream: format version " + version + " is not supported (expected "
                    + FORMAT_VERSION + ")");
        }
        int n = data.readInt();
        if (n < 0 || n > MAX_ENTRIES) {
            throw new CheckpointException("checkpoint stream: implausible entry count " + n);
        }
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            String name = data.readUTF();
            long len = data.readLong();
            if (len < 0 || len > Integer.MAX_VALUE - 16) {
                throw new CheckpointException("checkpoint stream: entry " + name + " has bad length " + len);
            }
            byte[] bytes = new byte[(int) len];
            try {
                data.readFully(bytes);
            } catch (EOFException e) {
                throw new CheckpointException("checkpoint stream: entry " + name + " is truncated");
            }
            files.put(name, bytes);
        }
        return fromFiles("stream", files);
    }

    /** Hex sha256 of some bytes. */
    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    // ---------------------------------------------------------------------------------------------

    private static Map<String, byte[]> files(Checkpoint c) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        ObjectNode config = JSON.createObjectNode();
        config.put("formatVersion", FORMAT_VERSION);
        config.put("kind", c.kind().name());
        config.put("architecture", c.architecture());
        config.set("config", JSON.valueToTree(c.config()));
        config.set("metadata", JSON.valueToTree(new TreeMap<>(c.metadata())));
        files.put(CONFIG, bytes(config));
        files.put(WEIGHTS, c.weights());
        if (c.optimizerState() != null) {
            files.put(OPTIMIZER, c.optimizerState());
        }
        if (files.size() + c.modelFiles().size() >= MAX_ENTRIES) {
            throw new CheckpointException("a checkpoint holds at most " + (MAX_ENTRIES - files.size() - 1)
                    + " model files, got " + c.modelFiles().size());
        }
        c.modelFiles().forEach((name, bytes) -> files.put(MODEL_FILES + name, bytes));
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("formatVersion", FORMAT_VERSION);
        ObjectNode list = manifest.putObject("files");
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            ObjectNode entry = list.putObject(f.getKey());
            entry.put("sha256", sha256(f.getValue()));
            entry.put("size", f.getValue().length);
        }
        files.put(MANIFEST, bytes(manifest));
        return files;
    }

    private static Checkpoint fromFiles(String where, Map<String, byte[]> files) {
        byte[] manifestBytes = files.get(MANIFEST);
        if (manifestBytes == null) {
            throw new CheckpointException("checkpoint " + where + ": " + MANIFEST + " is missing");
        }
        JsonNode manifest;
        try {
            manifest = JSON.readTree(manifestBytes);
        } catch (IOException e) {
            throw new CheckpointException("checkpoint " + where + ": " + MANIFEST + " is not valid JSON: "
                    + e.getMessage(), e);
        }
        JsonNode listed = manifest.path("files");
        if (!listed.isObject()) {
            throw new CheckpointException("checkpoint " + where + ": " + MANIFEST + " has no 'files' object");
        }
        for (Iterator<String> it = listed.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            byte[] content = files.get(name);
            if (content == null) {
                throw new CheckpointException("checkpoint " + where + ": file " + name
                        + " is listed in the manifest but missing");
            }
            String expected = listed.path(name).path("sha256").asText();
            String actual = sha256(content);
            if (!expected.equals(actual)) {
                throw new CheckpointException("checkpoint " + where + ": file " + name + " fails its sha256 check"
                        + " (manifest " + expected + ", file " + actual + "); the checkpoint is corrupt");
            }
        }
        for (String name : files.keySet()) {
            if (!name.equals(MANIFEST) && !listed.has(name)) {
                throw new CheckpointException("checkpoint " + where + ": file " + name + " is not in the manifest");
            }
        }
        for (String required : new String[] {CONFIG, WEIGHTS}) {
            if (!files.containsKey(required)) {
                throw new CheckpointException("checkpoint " + where + ": required file " + required + " is missing");
            }
        }
        try {
            JsonNode config = JSON.readTree(files.get(CONFIG));
            ModelKind kind = ModelKind.valueOf(config.path("kind").asText());
            String architecture = config.path("architecture").asText();
            TransformerConfig shape = JSON.treeToValue(config.path("config"), TransformerConfig.class);
            Map<String, String> metadata = new LinkedHashMap<>();
            config.path("metadata").fields().forEachRemaining(e -> metadata.put(e.getKey(), e.getValue().asText()));
            Map<String, byte[]> modelFiles = new TreeMap<>();
            files.forEach((name, bytes) -> {
                if (name.startsWith(MODEL_FILES)) {
                    modelFiles.put(name.substring(MODEL_FILES.length()), bytes);
                }
            });
            return new Checkpoint(kind, architecture, shape, files.get(WEIGHTS), files.get(OPTIMIZER), metadata,
                    modelFiles);
        } catch (IOException | IllegalArgumentException e) {
            throw new CheckpointException("checkpoint " + where + ": " + CONFIG + " is invalid: " + e.getMessage(), e);
        }
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        DurableFiles.moveIntoPlace(from, to, false);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }
}
