package io.streamrlhf.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDirsTest {

    @Test
    void aTemporaryDirectoryNamesItsOwner() throws Exception {
        Path dir = DataDirs.createTemp("rlhf-datadirs-test-");
        try {
            assertThat(Files.readString(dir.resolve(DataDirs.OWNER_FILE)).trim())
                    .isEqualTo(String.valueOf(ProcessHandle.current().pid()));
        } finally {
            DataDirs.deleteRecursively(dir);
        }
        assertThat(dir).doesNotExist();
    }

    @Test
    void onlyDirectoriesOfDeadOwnersAreSwept(@TempDir Path parent) throws Exception {
        Process finished = new ProcessBuilder(EmbeddedRegistry.javaExecutable(), "-version").start();
        finished.waitFor();
        Path orphan = ownedBy(parent.resolve("rlhf-x-orphan"), finished.pid());
        Path mine = ownedBy(parent.resolve("rlhf-x-mine"), ProcessHandle.current().pid());
        Path unknown = Files.createDirectories(parent.resolve("rlhf-x-unknown"));
        Path otherPrefix = ownedBy(parent.resolve("other-orphan"), finished.pid());

        DataDirs.sweepOrphans(parent, "rlhf-x-");

        assertThat(orphan).doesNotExist();
        assertThat(mine).isDirectory();
        assertThat(unknown).isDirectory();
        assertThat(otherPrefix).isDirectory();
    }

    private static Path ownedBy(Path dir, long pid) throws Exception {
        Files.createDirectories(dir.resolve("sub"));
        Files.writeString(dir.resolve("sub/file"), "data");
        Files.writeString(dir.resolve(DataDirs.OWNER_FILE), pid + "\n");
        return dir;
    }
}
