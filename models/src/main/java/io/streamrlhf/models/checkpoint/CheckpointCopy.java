package io.streamrlhf.models.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A local copy of a published checkpoint, fetched as its byte stream (from Kafka's {@code checkpoints} topic) and
 * kept as a checkpoint directory so a restart does not fetch it again. The published sha256 (of the manifest) is
 * checked before the copy is written and again before an existing copy is reused.
 */
public final class CheckpointCopy {

    private CheckpointCopy() {
    }

    /** Whether {@code dir} holds a checkpoint whose manifest's sha256 is {@code sha256}. */
    public static boolean holds(Path dir, String sha256) {
        Path manifest = dir.resolve(CheckpointStore.MANIFEST);
        if (!Files.isRegularFile(manifest)) {
            return false;
        }
        try {
            return CheckpointStore.sha256(Files.readAllBytes(manifest)).equalsIgnoreCase(sha256);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Checks {@code stream} against {@code sha256} and writes it into {@code dir} atomically (a copy already there is
     * replaced).
     *
     * @throws CheckpointException saying what is wrong: the stream is a delta (it needs its base), is not a
     *                             checkpoint, or its manifest's sha256 is not the published one
     */
    public static Path write(byte[] stream, String sha256, Path dir) {
        if (CheckpointDelta.isDelta(stream)) {
            throw new CheckpointException("the chunks hold a delta on version "
                    + CheckpointDelta.header(stream).baseVersion() + "; start from a full version");
        }
        String actual;
        try {
            actual = CheckpointStore.sha256(CheckpointStore.manifestOf(stream));
        } catch (CheckpointException e) {
            throw new CheckpointException("the chunks are not a checkpoint: " + e.getMessage(), e);
        }
        if (!actual.equalsIgnoreCase(sha256)) {
            throw new CheckpointException("the chunks' manifest sha256 is " + actual + " but the published sha256 is "
                    + sha256 + "; the checkpoint was changed or corrupted");
        }
        return CheckpointStore.save(CheckpointStore.fromBytes(stream), dir);
    }
}
