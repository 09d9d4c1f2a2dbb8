package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bench commands parse, hand over to their benchmark and print its JSON as the last line. */
class BenchCommandsTest {

    /** The command's exit code, its output lines and its error output. */
    record Run(int exit, List<String> lines, String err) { }

    static Run run(String... args) {
        RlhfCommandTest.Run run = RlhfCommandTest.run(args);
        return new Run(run.exit(), run.out().lines().toList(), run.err());
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

        Run both = run("bench", "scoring", "--reward", "http:local", "--sources", "rule:length");
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("--reward and --sources both name the ensemble; give one");
        Run delay = run("bench", "scoring", "--reward", "http:local", "--server-delay-ms", "-1");
        assertThat(delay.exit()).isEqualTo(1);
        assertThat(delay.err()).contains("server-delay-ms must be >= 0, got -1");

        Run serde = run("bench", "serde", "--records", "0");
        assertThat(serde.exit()).isEqualTo(1);
        assertThat(serde.err()).contains("rlhf bench serde: records must be >= 1, got 0");
        assertThat(worker.lines()).isEmpty();
        assertThat(scoring.lines()).isEmpty();
        assertThat(serde.lines()).isEmpty();
    }
}
