package io.streamrlhf.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.cli.demo.DemoResult;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

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
        assertThat(help.toString()).contains("streaming_s", "lockstep_s", "ratio", "target_gold", "--target-gold",
                "--minutes", "--seed", "--warmup-s", "--repeats");
    }

    @Test
    void theMedianCountsARunThatNeverArrivedAsTheSlowest() {
        assertThat(BenchE2eCommand.median(new double[] {3, 1, 2})).isEqualTo(2);
        assertThat(BenchE2eCommand.median(new double[] {Double.NaN, 1, 2})).isEqualTo(2);
        assertThat(BenchE2eCommand.median(new double[] {4, 1, 2, 3})).isEqualTo(2.5);
        assertThat(BenchE2eCommand.median(new double[] {Double.NaN})).isNaN();
    }

    @Test
    void repeatsReportMediansAndEveryRun() {
        // streaming: 20 s (30 versions), 30 s (40), 25 s (20); lockstep: 40 s (30), 50 s (60), never
        List<DemoResult> streaming = List.of(run(20, 30), run(30, 40), run(25, 20));
        List<DemoResult> lockstep = List.of(run(40, 30), run(50, 60), run(Double.NaN, -1));
        ObjectNode o = BenchE2eCommand.summary(streaming, lockstep, 2.2, 120);
        assertThat(o.get("streaming_s").asDouble()).isEqualTo(25.0);
        assertThat(o.get("lockstep_s").asDouble()).as("the run that never arrived is the slowest").isEqualTo(50.0);
        assertThat(o.get("ratio").asDouble()).isEqualTo(0.5);
        assertThat(o.get("repeats").asInt()).isEqualTo(3);
        assertThat(o.get("ratio_all").toString()).isEqualTo("[0.5,0.6,null]");
        // rates: streaming 1.5, 1.333, 0.8 -> 1.333; lockstep 0.75, 1.2, 0 -> 0.75
        assertThat(o.get("streaming_versions_per_s").asDouble()).isEqualTo(1.333);
        assertThat(o.get("lockstep_versions_per_s").asDouble()).isEqualTo(0.75);
        assertThat(o.get("rate_ratio").asDouble()).isEqualTo(0.563);

        JsonNode single = BenchE2eCommand.summary(List.of(run(20, 30)), List.of(run(40, 30)), 2.2, 0);
        assertThat(single.get("ratio").asDouble()).isEqualTo(0.5);
        assertThat(single.get("rate_ratio").asDouble()).isEqualTo(0.5);
        assertThat(single.has("ratio_all")).isFalse();
    }

    private static DemoResult run(double targetSeconds, long versionsAtTarget) {
        return new DemoResult(1.9, 2.4, 2.3, 1.0, 0.0, 2.0, versionsAtTarget + 2, versionsAtTarget, 5, 100, 60, 1000,
                1000, 500, 0, targetSeconds, false, 0.05, 1, true, 0, 0, 0.6, 100, versionsAtTarget);
    }
}
