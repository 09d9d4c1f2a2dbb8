package io.streamrlhf.producer.swap;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.chunks.ChunkIndex;
import io.streamrlhf.schemas.chunks.ChunkReadException;
import io.streamrlhf.schemas.chunks.ChunkUri;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Fetches the checkpoint a {@link PolicyVersion} points at and verifies it before anything loads it.
 *
 * <p>Two kinds of URI, as the learner publishes them:
 * <ul>
 *   <li>{@code file:/shared/ckpt/policy/v7/} — a checkpoint directory ({@link CheckpointStore} layout) on shared
 *       storage;</li>
 *   <li>{@code kafka:<checkpoints topic>/<name>/<version>} — the checkpoint's byte-stream form
 *       ({@link CheckpointStore#toBytes}) in chunks on the {@code checkpoints} topic, keyed
 *       {@code <name>/<version>/<i>}, with {@code <name>/<version>/count} holding the number of chunks; the record's
 *       {@code chunks_*} fields, when present, say where they lie, so the source seeks straight to them.</li>
 * </ul>
 * Verification, in order: the sha256 of the checkpoint's {@code manifest.json} must equal
 * {@link PolicyVersion#getSha256()} (what the learner publishes), then every file must match the manifest
 * ({@link CheckpointStore} checks that on load). Anything else is a {@link CheckpointRefusedException}.
 */
public final class CheckpointFetcher {

    /** Where the chunks of a {@code kafka:} URI come from; {@link KafkaChunkSource} reads the topic. */
    public interface ChunkSource {
        /** The concatenated chunks of {@code name}/{@code version} on {@code topic}, in chunk order. */
        byte[] read(String topic, String name, long version);

        /**
         * The same, reading only where {@code index} says the chunks lie; {@code index} is null for records
         * published without one. Sources that cannot seek ignore it.
         */
        default byte[] read(String topic, String name, long version, ChunkIndex index) {
            return read(topic, name, version);
        }
    }

    private final ChunkSource chunks;

    /** A fetcher that reads {@code kafka:} URIs from {@code chunks} (may be null when only files are used). */
    public CheckpointFetcher(ChunkSource chunks) {
        this.chunks = chunks;
    }

    /**
     * Fetches and verifies the checkpoint of {@code version}.
     *
     * @throws CheckpointRefusedException naming the version, the URI and what was wrong
     */
    public Checkpoint fetch(PolicyVersion version) {
        String uri = version.getCheckpointUri();
        String what = "policy " + version.getName() + " version " + version.getVersion() + " (" + uri + ")";
        try {
            if (uri.startsWith("kafka:")) {
                return fromStream(readChunks(version, what), version.getSha256(), what);
            }
            Path dir = toPath(uri, what);
            return fromDirectory(dir, version.getSha256(), what);
        } catch (CheckpointException e) {
            throw new CheckpointRefusedException(what + " refused: " + e.getMessage(), e);
        }
    }

    /** Verifies and loads a checkpoint directory whose manifest must hash to {@code expectedSha256}. */
    static Checkpoint fromDirectory(Path dir, String expectedSha256, String what) {
        Path manifest = dir.resolve(CheckpointStore.MANIFEST);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(manifest);
        } catch (IOException e) {
            throw new CheckpointRefusedException(what + " refused: cannot read " + manifest + ": " + e, e);
        }
        checkSha(bytes, expectedSha256, what);
        return CheckpointStore.load(dir);
    }

    /** Verifies and loads the byte-stream form whose manifest entry must hash to {@code expectedSha256}. */
    static Checkpoint fromStream(byte[] stream, String expectedSha256, String what) {
        checkSha(manifestOf(stream, what), expectedSha256, what);
        return CheckpointStore.fromBytes(stream);
    }

    private static void checkSha(byte[] manifest, String expected, String what) {
        String actual = CheckpointStore.sha256(manifest);
        if (!actual.equalsIgnoreCase(Objects.requireNonNullElse(expected, ""))) {
            throw new CheckpointRefusedException(what + " refused: its manifest's sha256 is " + actual
                    + " but the published sha256 is " + expected + "; the checkpoint was changed or corrupted");
        }
    }

    /**
     * The {@code manifest.json} entry of a checkpoint stream. Reads the entry table documented on
     * {@link CheckpointStore} (magic, format version, count, then name/length/bytes per entry); the store itself
     * only hands back the decoded checkpoint, and the published sha256 is over the manifest's exact bytes.
     */
    static byte[] manifestOf(byte[] stream, String what) {
        try {
            return CheckpointStore.manifestOf(stream);
        } catch (CheckpointException e) {
            throw new CheckpointRefusedException(what + " refused: " + e.getMessage(), e);
        }
    }

    private byte[] readChunks(PolicyVersion version, String what) {
        if (chunks == null) {
            throw new CheckpointRefusedException(what + " refused: kafka: checkpoints need a chunk source");
        }
        ChunkUri uri;
        try {
            uri = ChunkUri.parse(version.getCheckpointUri());
        } catch (IllegalArgumentException e) {
            throw new CheckpointRefusedException(what + " refused: " + e.getMessage(), e);
        }
        ChunkIndex index = ChunkIndex.ofNullable(version.getChunksPartition(), version.getChunksFirstOffset(),
                version.getChunksLastOffset());
        try {
            return chunks.read(uri.topic(), uri.prefix(), uri.version(), index);
        } catch (ChunkReadException e) {
            throw new CheckpointRefusedException(what + " refused: " + e.getMessage(), e);
        }
    }

    private static Path toPath(String uri, String what) {
        try {
            URI parsed = new URI(uri);
            if (parsed.getScheme() == null) {
                return Path.of(uri);
            }
            if (!"file".equals(parsed.getScheme())) {
                throw new CheckpointRefusedException(what + " refused: unsupported URI scheme '" + parsed.getScheme()
                        + "' (expected file: or kafka:)");
            }
            return Path.of(parsed);
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new CheckpointRefusedException(what + " refused: not a valid URI: " + e.getMessage(), e);
        }
    }
}
