package io.streamrlhf.producer.swap;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointDelta;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.chunks.ChunkIndex;
import io.streamrlhf.schemas.chunks.ChunkReadException;
import io.streamrlhf.schemas.chunks.CheckpointUris;
import io.streamrlhf.schemas.chunks.ChunkUri;
import io.streamrlhf.schemas.signing.VersionVerifier;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

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
 * Verification, in order: the record's signature against the trusted keys (when any are configured,
 * {@link VersionVerifier}), its URI against the allowed checkpoints topic and roots ({@link CheckpointUris}), the sha256 of the checkpoint's {@code manifest.json} must equal
 * {@link PolicyVersion#getSha256()} (what the learner publishes), then every file must match the manifest
 * ({@link CheckpointStore} checks that on load). Anything else is a {@link CheckpointRefusedException}.
 *
 * <p>Delta versions (a record with {@code delta_base_version}): the chunks hold a {@link CheckpointDelta} to that
 * version. The fetcher keeps the byte-stream checkpoint of the last version it verified per policy and applies the
 * delta to it; when it holds another version (it skipped one, or just started) it reads the base version's chunks
 * from the topic by their keys, itself a delta or full, back to a full version (the publisher keeps that chain), and
 * applies the deltas forward. The result is verified exactly as a full version. A base that is no longer on the
 * topic is refused naming the version, its base and what this process holds. A delta that carries momentum needs the
 * version before its base as well ({@link CheckpointDelta.Header#needsPrior()}): the fetcher keeps the base it built
 * the held version from, and a walk back rebuilds both.
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

    /** The deepest chain of deltas a fetch walks back before it refuses. */
    static final int MAX_CHAIN = 1000;

    private final ChunkSource chunks;
    private final VersionVerifier verifier;
    private final CheckpointUris uris;
    /** Per policy name: the version and byte-stream checkpoint verified last, the base of the next delta. */
    private final Map<String, Held> held = new ConcurrentHashMap<>();

    /**
     * A version held: its bytes, and the bytes of the base it was rebuilt from (null when it came full), the prior of
     * a delta on it that carries momentum.
     */
    private record Held(long version, byte[] stream, byte[] base) {
    }

    /**
     * A fetcher that reads {@code kafka:} URIs from {@code chunks} (may be null when only files are used), checks no
     * signatures, and allows any topic and directory (still no {@code ..}).
     */
    public CheckpointFetcher(ChunkSource chunks) {
        this(chunks, VersionVerifier.OFF, new CheckpointUris(null, java.util.List.of()));
    }

    /**
     * A fetcher that also refuses versions {@code verifier} refuses and URIs {@code uris} refuses.
     *
     * @param chunks   reads {@code kafka:} URIs; may be null when only files are used
     * @param verifier the trusted signing keys ({@link VersionVerifier#OFF} for none)
     * @param uris     the allowed checkpoints topic and directories
     */
    public CheckpointFetcher(ChunkSource chunks, VersionVerifier verifier, CheckpointUris uris) {
        this.chunks = chunks;
        this.verifier = Objects.requireNonNull(verifier, "verifier");
        this.uris = Objects.requireNonNull(uris, "uris");
    }

    /**
     * Fetches and verifies the checkpoint of {@code version}.
     *
     * @throws CheckpointRefusedException naming the version, the URI and what was wrong
     */
    public Checkpoint fetch(PolicyVersion version) {
        String uri = version.getCheckpointUri();
        String what = "policy " + version.getName() + " version " + version.getVersion() + " (" + uri + ")";
        verifier.refusal(version).ifPresent(reason -> {
            throw new CheckpointRefusedException(what + " refused: " + reason);
        });
        try {
            uris.check(uri);
        } catch (IllegalArgumentException e) {
            throw new CheckpointRefusedException(what + " refused: " + e.getMessage(), e);
        }
        try {
            if (uri.startsWith("kafka:")) {
                byte[] stream = readChunks(version, what);
                byte[] base = null;
                if (version.getDeltaBaseVersion() != null || CheckpointDelta.isDelta(stream)) {
                    Held rebuilt = rebuild(version, stream, what);
                    stream = rebuilt.stream();
                    base = rebuilt.base();
                }
                Checkpoint checkpoint = fromStream(stream, version.getSha256(), what);
                held.put(version.getName(), new Held(version.getVersion(), stream, base));
                return checkpoint;
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

    /** The full byte-stream checkpoint of a delta version, its delta applied to its base's bytes, and that base. */
    private Held rebuild(PolicyVersion version, byte[] delta, String what) {
        CheckpointDelta.Header header = CheckpointDelta.header(delta);
        if (version.getDeltaBaseVersion() != null && version.getDeltaBaseVersion() != header.baseVersion()) {
            throw new CheckpointRefusedException(what + " refused: the record names base version "
                    + version.getDeltaBaseVersion() + " but its delta is on version " + header.baseVersion());
        }
        Held mine = held.get(version.getName());
        Held base;
        if (mine != null && mine.version() == header.baseVersion()
                && (!header.needsPrior() || mine.base() != null)) {
            base = mine;
        } else {
            base = walkBack(version, header.baseVersion(), header.needsPrior(), mine, what);
        }
        return new Held(version.getVersion(), CheckpointDelta.apply(base.stream(), base.base(), delta), base.stream());
    }

    /**
     * The byte-stream checkpoint of {@code baseVersion}, read from the topic and rebuilt from its chain, with the base
     * it was rebuilt from (null when it is full).
     */
    private Held walkBack(PolicyVersion version, long baseVersion, boolean priorNeeded, Held mine, String what) {
        ChunkUri uri = ChunkUri.parse(version.getCheckpointUri());
        java.util.ArrayDeque<byte[]> deltas = new java.util.ArrayDeque<>();
        long wanted = baseVersion;
        byte[] bytes;
        byte[] before = null;
        while (true) {
            // What this process holds ends the walk, unless the next delta needs the base it was built from and
            // that is gone (the held version came full, or from a file).
            boolean nextNeedsPrior = deltas.isEmpty() ? priorNeeded : CheckpointDelta.header(deltas.peek()).needsPrior();
            if (mine != null && mine.version() == wanted && (!nextNeedsPrior || mine.base() != null)) {
                bytes = mine.stream();
                before = mine.base();
                break;
            }
            try {
                bytes = chunks.read(uri.topic(), uri.prefix(), wanted, null);
            } catch (ChunkReadException | CheckpointRefusedException e) {
                throw new CheckpointRefusedException(what + " refused: it is a delta on version " + baseVersion
                        + "; this process holds " + (mine == null ? "no version" : "version " + mine.version())
                        + " and version " + wanted + " of its chain cannot be read from " + uri.topic() + " ("
                        + e.getMessage() + "); it waits for the next full version", e);
            }
            if (!CheckpointDelta.isDelta(bytes)) {
                break;
            }
            deltas.push(bytes);
            if (deltas.size() > MAX_CHAIN) {
                throw new CheckpointRefusedException(what + " refused: its chain of deltas is longer than " + MAX_CHAIN);
            }
            wanted = CheckpointDelta.header(bytes).baseVersion();
        }
        while (!deltas.isEmpty()) {
            byte[] next = CheckpointDelta.apply(bytes, before, deltas.pop());
            before = bytes;
            bytes = next;
        }
        return new Held(baseVersion, bytes, before);
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
