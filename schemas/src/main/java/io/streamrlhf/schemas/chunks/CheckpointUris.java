package io.streamrlhf.schemas.chunks;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * Which {@code checkpoint_uri}s a reader of {@code policy.versions} or {@code rm.versions} follows: {@code kafka:}
 * chunks on the configured checkpoints topic only, and {@code file:} directories (or plain paths) under the
 * configured roots only. A URI with a {@code ..} segment is always refused, so a record cannot climb out of a root.
 * With no roots configured any directory is allowed (as before roots existed), still without {@code ..}.
 */
public final class CheckpointUris {

    /** Directories a {@code file:} checkpoint must lie under. */
    public static final String ALLOWED_ROOTS = "checkpoints.allowed.roots";

    /** Every key with its default and doc. */
    public static final ConfigDef DEFINITION = new ConfigDef()
            .define(ALLOWED_ROOTS, Type.LIST, "", Importance.HIGH,
                    "Comma-separated directories under which file: checkpoint URIs of published versions must lie; "
                            + "empty: any directory. kafka: URIs must name the configured checkpoints topic, and a "
                            + "URI with a '..' segment is refused either way.");

    private final String checkpointsTopic;
    private final List<Path> roots;

    /**
     * @param checkpointsTopic the one topic {@code kafka:} URIs may name; null accepts any (tools without a catalog)
     * @param roots            directories {@code file:} URIs must lie under; empty for any
     */
    public CheckpointUris(String checkpointsTopic, List<Path> roots) {
        this.checkpointsTopic = checkpointsTopic;
        this.roots = roots.stream().map(p -> p.toAbsolutePath().normalize()).toList();
    }

    /** The rules of a service's settings, {@code checkpointsTopic} being its catalog's checkpoints topic. */
    public static CheckpointUris from(String checkpointsTopic, Map<?, ?> settings) {
        List<String> roots = new AbstractConfig(DEFINITION, settings, false).getList(ALLOWED_ROOTS);
        return new CheckpointUris(checkpointsTopic,
                roots.stream().map(String::trim).filter(s -> !s.isEmpty()).map(Path::of).toList());
    }

    /** The directories allowed, normalised; empty for any. */
    public List<Path> roots() {
        return roots;
    }

    /**
     * Checks {@code uri}.
     *
     * @throws IllegalArgumentException naming the URI and the rule it breaks
     */
    public void check(String uri) {
        if (uri == null || uri.isBlank()) {
            throw new IllegalArgumentException("the checkpoint URI is empty");
        }
        if (hasDotDot(uri)) {
            throw new IllegalArgumentException("checkpoint URI '" + uri + "' has a '..' segment");
        }
        if (ChunkUri.isChunkUri(uri)) {
            ChunkUri chunks = ChunkUri.parse(uri);
            if (checkpointsTopic != null && !checkpointsTopic.equals(chunks.topic())) {
                throw new IllegalArgumentException("checkpoint URI '" + uri + "' names topic '" + chunks.topic()
                        + "', not the configured checkpoints topic '" + checkpointsTopic + "'");
            }
            return;
        }
        Path dir = path(uri);
        if (!roots.isEmpty() && roots.stream().noneMatch(dir::startsWith)) {
            throw new IllegalArgumentException("checkpoint URI '" + uri + "' is outside the allowed roots " + roots
                    + " (" + ALLOWED_ROOTS + ")");
        }
    }

    private static Path path(String uri) {
        String lower = uri.toLowerCase(Locale.ROOT);
        try {
            if (lower.startsWith("file:")) {
                return Path.of(new URI(uri)).toAbsolutePath().normalize();
            }
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new IllegalArgumentException("checkpoint URI '" + uri + "' is not a valid file: URI: "
                    + e.getMessage(), e);
        }
        if (lower.matches("^[a-z][a-z0-9+.-]*:.*") && !lower.matches("^[a-z]:[\\\\/].*")) {
            throw new IllegalArgumentException("checkpoint URI '" + uri + "' has an unsupported URI scheme '"
                    + uri.substring(0, uri.indexOf(':')) + "' (expected file: or kafka:)");
        }
        return Path.of(uri).toAbsolutePath().normalize();
    }

    /** A {@code ..} segment, also percent-encoded, between slashes or backslashes. */
    private static boolean hasDotDot(String uri) {
        String decoded = uri.replaceAll("(?i)%2e", ".").replaceAll("(?i)%2f", "/").replaceAll("(?i)%5c", "\\\\");
        for (String segment : decoded.split("[/\\\\:]")) {
            if (segment.equals("..")) {
                return true;
            }
        }
        return false;
    }
}
