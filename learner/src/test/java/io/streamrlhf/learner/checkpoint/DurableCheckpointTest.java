package io.streamrlhf.learner.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.models.checkpoint.DurableFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A version directory is fsynced, every file and the directory, before its rename, and its root after it. */
class DurableCheckpointTest {

    @Test
    void aVersionIsSyncedBeforeItsRenameAndTheRootAfter(@TempDir Path root) {
        VersionedDirectory versions = new VersionedDirectory(root, "checkpoint");
        List<String> events;
        Path written;
        try (DurableFiles.Recording recording = DurableFiles.record()) {
            written = versions.write(7, dir -> {
                Files.createDirectories(dir.resolve("policy"));
                Files.write(dir.resolve("policy").resolve("weights.bin"), new byte[] {1, 2});
                Files.write(dir.resolve("state.json"), new byte[] {'{', '}'});
                return Map.of("state.json", new byte[] {'{', '}'});
            });
            events = recording.events();
        }

        int move = -1;
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).startsWith("move ")) {
                move = i;
            }
        }
        assertThat(move).as("the rename, in %s", events).isPositive();
        assertThat(events.get(move)).endsWith(" -> " + written);
        String staged = events.get(move).substring("move ".length(), events.get(move).indexOf(" -> "));
        assertThat(events.subList(0, move)).contains(
                "sync " + Path.of(staged, "policy", "weights.bin"),
                "sync " + Path.of(staged, "state.json"),
                "sync " + Path.of(staged, VersionedDirectory.MANIFEST),
                "sync " + Path.of(staged, "policy"),
                "sync " + staged);
        assertThat(events.subList(move + 1, events.size())).contains("sync " + root.toAbsolutePath());
    }
}
