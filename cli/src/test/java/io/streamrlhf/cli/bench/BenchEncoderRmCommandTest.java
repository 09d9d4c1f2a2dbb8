package io.streamrlhf.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.cli.Rlhf;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code rlhf bench encoder-rm} on the RMB sample: every scenario held out in turn (the heads fit the scenarios they
 * were trained on; on held-out scenarios they are at chance, see docs/reward-models.md, so that case checks the
 * measurement, not a result); and, with prompts held out instead, heads trained on the harmlessness scenario's other
 * prompts beat chance and the length rule on its held-out ones.
 */
class BenchEncoderRmCommandTest {

    @Test
    void everyScenarioIsHeldOutInTurnAndTheHeadsFitTheRest() throws Exception {
        String root = System.getProperty("project.root");
        Path sample = (root != null ? Path.of(root) : Path.of("").toAbsolutePath().getParent())
                .resolve("../shared/rmb").normalize();
        Assumptions.assumeTrue(Files.isDirectory(sample), "RMB sample not found at " + sample
                + "; BenchEncoderRmCommand's own code paths are covered by TrainRmEncoderCommandTest");
        CommandLine cli = Rlhf.commandLine();
        StringWriter out = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(new StringWriter()));
        int code = cli.execute("bench", "encoder-rm", "--rmb", sample.toString(), "--limit", "20", "--threads", "2",
                "--json");
        assertThat(code).isZero();
        String[] lines = out.toString().strip().split("\n");
        JsonNode result = new ObjectMapper().readTree(lines[lines.length - 1]);
        JsonNode scenarios = result.get("scenarios");
        assertThat(scenarios.size()).isEqualTo(4);
        int heldOut = 0;
        for (JsonNode s : scenarios) {
            assertThat(s.get("train_pairwise_acc").asDouble()).as("the heads fit their training pairs").isGreaterThan(0.8);
            assertThat(s.get("chance_pairwise").asDouble()).isEqualTo(0.5);
            heldOut += s.get("pairwise_items").asInt() + s.get("bon_items").asInt();
        }
        assertThat(heldOut).as("each item held out once").isEqualTo(result.get("items").asInt());
        assertThat(result.get("pairwise_acc").asDouble()).isBetween(0.0, 1.0);
        assertThat(result.get("length_pairwise_acc").asDouble()).isBetween(0.0, 1.0);
    }

    @Test
    void headsBeatChanceOnHeldOutPromptsOfTheHarmlessnessScenario() throws Exception {
        Path sample = sample();
        Assumptions.assumeTrue(Files.isDirectory(sample), "RMB sample not found at " + sample);
        CommandLine cli = Rlhf.commandLine();
        StringWriter out = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(new StringWriter()));
        String s6 = sample.resolve("pairwise/harmlessness/s6.json") + "," + sample.resolve("bon/harmlessness/s6.json");
        int code = cli.execute("bench", "encoder-rm", "--rmb", s6, "--split", "prompt", "--limit", "120",
                "--threads", "2", "--json");
        assertThat(code).isZero();
        String[] lines = out.toString().strip().split("\n");
        JsonNode result = new ObjectMapper().readTree(lines[lines.length - 1]);
        assertThat(result.get("split").asText()).isEqualTo("prompt");
        assertThat(result.get("folds").size()).isEqualTo(5);
        JsonNode s = result.get("scenarios").get("Harmlessness/S6");
        assertThat(s.get("pairwise_items").asInt() + s.get("bon_items").asInt()).as("each item held out once")
                .isEqualTo(result.get("items").asInt());
        // Measured: pairwise 0.683 of 120 (length 0.558), Best-of-N 0.614 of 83 (length 0.313, chance 0.306).
        assertThat(s.get("pairwise_acc").asDouble()).as("pairwise on held-out prompts, chance 0.5; %s", s)
                .isGreaterThan(0.58).isGreaterThan(s.get("length_pairwise_acc").asDouble());
        assertThat(s.get("bon_acc").asDouble()).as("Best-of-N on held-out prompts; %s", s)
                .isGreaterThan(s.get("chance_bon").asDouble() + 0.15);
    }

    private static Path sample() {
        String root = System.getProperty("project.root");
        return (root != null ? Path.of(root) : Path.of("").toAbsolutePath().getParent()).resolve("../shared/rmb")
                .normalize();
    }
}
