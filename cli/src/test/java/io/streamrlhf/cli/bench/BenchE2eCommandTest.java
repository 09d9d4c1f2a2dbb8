package io.streamrlhf.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command's flags and help; what it measures is {@code EndToEndBenchTest}'s. */
class BenchE2eCommandTest {

    @Test
    void rejectsBadSettingsAndDocumentsItsJsonLine() {
        StringWriter err = new StringWriter();
        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(new BenchE2eCommand());
        cli.setErr(new PrintWriter(err));
        cli.setOut(new PrintWriter(out));
        assertThat(cli.execute("--minutes", "0")).isEqualTo(2);
        assertThat(err.toString()).contains("--minutes must be > 0");
        assertThat(out.toString()).isEmpty();

        err.getBuffer().setLength(0);
        assertThat(cli.execute("--repeats", "0")).isEqualTo(2);
        assertThat(err.toString()).contains("--repeats must be >= 1, got 0");

        err.getBuffer().setLength(0);
        assertThat(cli.execute("--warmup-s", "-1")).isEqualTo(2);
        assertThat(err.toString()).contains("--warmup-s must be >= 0, got -1");
        assertThat(out.toString()).isEmpty();

        StringWriter help = new StringWriter();
        cli.setOut(new PrintWriter(help));
        assertThat(cli.execute("--help")).isZero();
        assertThat(help.toString()).contains("streaming_s", "lockstep_s", "ratio", "target_gold", "ratio_floor",
                "--target-gold", "--minutes", "--seed", "--warmup-s", "--repeats");
    }
}
