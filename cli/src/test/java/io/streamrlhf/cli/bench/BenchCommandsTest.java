package io.streamrlhf.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.cli.Rlhf;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The bench commands parse, hand over to their benchmark and print its JSON as the last line. */
class BenchCommandsTest {

    record Run(int exit, List<String> lines, String err) { }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Rlhf.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        return new Run(exit, out.toString().lines().toList(), err.toString());
    }

    @Test
    void serdePrintsTheSummaryThenTheJsonLine() throws Exception {
        Run run = run("bench", "serde", "--records", "2000", "--response-tokens", "8");

        assertThat(run.exit()).isZero();
        assertThat(run.lines()).hasSize(2);
        assertThat(run.lines().get(0)).startsWith("Generation with 8 response tokens: 2,000 records in ");
        JsonNode json = new ObjectMapper().readTree(run.lines().get(1));
        assertThat(json.get("records").asLong()).isEqualTo(2000);
        assertThat(json.get("response_tokens").asInt()).isEqualTo(8);
        assertThat(json.get("records_per_s").asDouble()).isPositive();
    }

    @Test
    void serdeWithJsonPrintsOnlyTheJsonLine() throws Exception {
        Run run = run("bench", "serde", "--records", "1000", "--json");

        assertThat(run.exit()).isZero();
        assertThat(run.lines()).hasSize(1);
        assertThat(new ObjectMapper().readTree(run.lines().get(0)).get("response_tokens").asInt()).isEqualTo(40);
    }

    @Test
    void workerAndScoringRefuseBadParametersBeforeStartingAnything() {
        Run worker = run("bench", "worker", "--prompts", "0");
        assertThat(worker.exit()).isEqualTo(1);
        assertThat(worker.err()).contains("rlhf bench worker: prompts must be >= 1, got 0");

        Run scoring = run("bench", "scoring", "--batch", "0");
        assertThat(scoring.exit()).isEqualTo(1);
        assertThat(scoring.err()).contains("rlhf bench scoring: batch must be >= 1, got 0");

        Run serde = run("bench", "serde", "--records", "0");
        assertThat(serde.exit()).isEqualTo(1);
        assertThat(serde.err()).contains("rlhf bench serde: records must be >= 1, got 0");
        assertThat(worker.lines()).isEmpty();
        assertThat(scoring.lines()).isEmpty();
        assertThat(serde.lines()).isEmpty();
    }
}
