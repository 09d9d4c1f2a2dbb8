package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.hf.TinyHfModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code rlhf model inspect} on a tiny Hugging Face folder: its JSON line, and bad input refused with a reason. */
class ModelCommandTest {

    @TempDir
    Path tmp;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = Rlhf.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        return cli.execute(args);
    }

    @Test
    void printsIdsAndNextTokenLogProbsAsOneJsonLine() throws Exception {
        Path dir = TinyHfModels.write(tmp.resolve("gpt2"), TinyHfModels.Architecture.GPT2, 1);

        assertThat(run("model", "inspect", "--model", dir.toString(), "--tokens", "5, 17,3,42", "--json")).isZero();

        String[] lines = out.toString().strip().split("\n");
        assertThat(lines).hasSize(1);
        JsonNode json = new ObjectMapper().readTree(lines[0]);
        assertThat(json.get("ids").toString()).isEqualTo("[5,17,3,42]");
        assertThat(json.get("tokens").isNull()).isTrue();
        assertThat(json.get("reward").isNull()).isTrue();
        assertThat(json.get("logprobs")).hasSize(3);
        json.get("logprobs").forEach(lp -> assertThat(lp.asDouble()).isNegative());
    }

    @Test
    void aRewardFolderGivesTheRewardOfTheSequenceAndNoLogProbs() throws Exception {
        Path dir = TinyHfModels.writeReward(tmp.resolve("rm"), TinyHfModels.Architecture.QWEN2, 3, null);

        assertThat(run("model", "inspect", "--model", dir.toString(), "--tokens", "5,17,3,42", "--json")).isZero();

        JsonNode json = new ObjectMapper().readTree(out.toString().strip());
        assertThat(json.get("ids").toString()).isEqualTo("[5,17,3,42]");
        assertThat(json.get("logprobs")).isEmpty();
        assertThat(json.get("reward").isNumber()).isTrue();
        double reward = json.get("reward").asDouble();

        out.getBuffer().setLength(0);
        assertThat(run("model", "inspect", "--model", dir.toString(), "--tokens", "5,17,3")).isZero();
        String[] lines = out.toString().strip().split("\n");
        assertThat(lines).hasSize(6);
        assertThat(lines[4]).startsWith("reward ");
        assertThat(new ObjectMapper().readTree(lines[5]).get("reward").asDouble())
                .as("the reward depends on the whole sequence").isNotEqualTo(reward);
    }

    @Test
    void withoutJsonPrintsATableFirst() {
        Path dir = tinyQwen2();
        assertThat(run("model", "inspect", "--model", dir.toString(), "--tokens", "5,17")).isZero();
        String[] lines = out.toString().strip().split("\n");
        assertThat(lines).hasSize(4);
        assertThat(lines[0]).contains("pos", "id", "token", "logprob");
        assertThat(lines[3]).startsWith("{\"ids\":[5,17]");
    }

    @Test
    void refusesBadInputWithAReason() {
        Path dir = tinyQwen2();
        assertThat(run("model", "inspect", "--model", dir.toString(), "--tokens", "5,x")).isEqualTo(2);
        assertThat(err.toString()).contains("--tokens must be comma-separated integers, got '5,x'");

        err.getBuffer().setLength(0);
        assertThat(run("model", "inspect", "--model", tmp.resolve("absent").toString(), "--tokens", "5"))
                .isEqualTo(2);
        assertThat(err.toString()).contains("is not a directory");

        err.getBuffer().setLength(0);
        assertThat(run("model", "inspect", "--model", dir.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("--text", "--tokens");

        err.getBuffer().setLength(0);
        assertThat(run("model", "inspect", "--model", dir.toString(), "--tokens", "5,4000")).isEqualTo(1);
        assertThat(err.toString()).contains("config.json", "token id 4000 (position 1) is beyond the embedding");

        err.getBuffer().setLength(0);
        assertThat(run("model", "inspect", "--model", dir.toString(), "--text", "hello")).isEqualTo(1);
        assertThat(err.toString()).contains("tokenizer.json");
        assertThat(out.toString()).isEmpty();
    }

    private Path tinyQwen2() {
        try {
            return TinyHfModels.write(tmp.resolve("qwen2"), TinyHfModels.Architecture.QWEN2, 3);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
