package io.streamrlhf.schemas.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A benchmark's scratch directory goes away with everything written into it. */
class ScratchDirectoryTest {

    @Test
    void closingDeletesTheDirectoryAndItsNestedContents() throws Exception {
        Path root;
        try (ScratchDirectory work = ScratchDirectory.create("scratch-test")) {
            root = work.path();
            assertThat(root.getFileName().toString()).startsWith("scratch-test");
            Files.createDirectories(work.resolve("v0/weights"));
            Files.writeString(work.resolve("v0/weights/manifest.json"), "{}");
            Files.writeString(work.resolve("top.txt"), "x");
            assertThat(work.resolve("v0")).isEqualTo(root.resolve("v0"));
        }
        assertThat(root).doesNotExist();
    }

    @Test
    void closingTwiceOrAfterTheDirectoryIsGoneIsFine() throws Exception {
        ScratchDirectory work = ScratchDirectory.create("scratch-test");
        Files.delete(work.path());
        work.close();
        work.close();
        assertThat(work.path()).doesNotExist();
    }
}
