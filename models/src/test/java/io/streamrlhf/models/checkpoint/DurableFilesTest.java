package io.streamrlhf.models.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.models.transformer.TransformerConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint's files and directory are fsynced before its rename is trusted, and its parent after it. */
class DurableFilesTest {

    @Test
    void aSavedCheckpointIsSyncedBeforeAndAfterItsRename(@TempDir Path tmp) {
        Path dir = tmp.resolve("policy");
        Checkpoint checkpoint = new Checkpoint(ModelKind.POLICY, "transformer", new TransformerConfig(24, 16, 32, 2, 4),
                new byte[] {1, 2, 3}, null, Map.of("version", "1"));
        List<String> events;
        try (DurableFiles.Recording recording = DurableFiles.record()) {
            CheckpointStore.save(checkpoint, dir);
            events = recording.events();
        }

        int move = indexOf(events, "move ");
        assertThat(move).as("one rename, in %s", events).isGreaterThan(0);
        assertThat(events.get(move)).endsWith(" -> " + dir.toAbsolutePath());
        String staged = events.get(move).substring("move ".length(), events.get(move).indexOf(" -> "));
        List<String> before = events.subList(0, move);
        for (String file : List.of(CheckpointStore.WEIGHTS, CheckpointStore.CONFIG, CheckpointStore.MANIFEST)) {
            assertThat(before).as("%s synced before the rename", file).contains("sync " + Path.of(staged, file));
        }
        assertThat(before).as("the staged directory itself").contains("sync " + staged);
        assertThat(events.subList(move + 1, events.size())).as("the parent after the rename")
                .contains("sync " + tmp.toAbsolutePath());
        assertThat(CheckpointStore.load(dir).weights()).containsExactly(1, 2, 3);
    }

    private static int indexOf(List<String> events, String prefix) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }
}
