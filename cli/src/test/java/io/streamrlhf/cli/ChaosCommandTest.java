package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rlhf chaos}'s usage errors, each naming what was wrong, before anything starts. */
class ChaosCommandTest {

    @TempDir Path work;

    @Test
    void helpNamesTheAuditAndTheReport() {
        CliRun run = CliRun.of("chaos", "--help");
        assertThat(run.code()).isZero();
        assertThat(run.out()).contains("--kills", "--seed", "--minutes", "--json", "\"lost\":0", "registry",
                "--no-pause", "SIGSTOP", "\"published_after_resume\":0");
    }

    @Test
    void badFlagsAreRefusedByName() throws Exception {
        CliRun one = CliRun.of("chaos", "--workers", "1", "--dir", work.resolve("a").toString());
        assertThat(one.code()).isEqualTo(2);
        assertThat(one.err()).contains("--workers must be >= 2");
        CliRun kills = CliRun.of("chaos", "--kills", "0", "--dir", work.resolve("b").toString());
        assertThat(kills.code()).isEqualTo(2);
        assertThat(kills.err()).contains("--kills must be >= 1, got 0");
        Path used = Files.createDirectories(work.resolve("used"));
        Files.writeString(used.resolve("stack.json"), "{}");
        CliRun notEmpty = CliRun.of("chaos", "--dir", used.toString());
        assertThat(notEmpty.code()).isEqualTo(2);
        assertThat(notEmpty.err()).contains("--dir " + used + " is not empty");
    }
}
