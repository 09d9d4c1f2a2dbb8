package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.encoder.RewardHeads;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rlhf train-rm --encoder minilm --pairs FILE --out DIR}, then {@code embed:DIR} scoring with the heads. */
class TrainRmEncoderCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String[] run(String... args) {
        CliRun r = CliRun.of(args);
        return new String[] {String.valueOf(r.code()), r.out(), r.err()};
    }

    @Test
    void trainsHeadsFromAPairsFileThatEmbedScoresWith(@TempDir Path dir) throws Exception {
        // Polite, on-topic answers against curt or off-topic ones.
        String[][] topics = {{"How do I boil an egg?", "Put the egg in boiling water for about nine minutes, then "
                + "cool it in cold water.", "No."}, {"What is the capital of France?", "The capital of France is "
                + "Paris.", "I like turtles."}, {"How can I learn to swim?", "Start in shallow water with an "
                + "instructor and practise floating and breathing.", "Whatever, figure it out."},
                {"Why is the sky blue?", "Sunlight scatters off air molecules, and blue light scatters the most.",
                        "Go away."}, {"How do I sort a list in Python?", "Use sorted(my_list) for a new list or "
                        + "my_list.sort() to sort it in place.", "Not my problem."},
                {"What should I eat for breakfast?", "Oatmeal with fruit and some yogurt is a balanced start to the "
                        + "day.", "Nothing."}};
        List<String> lines = new ArrayList<>();
        for (String[] t : topics) {
            lines.add(JSON.writeValueAsString(java.util.Map.of("prompt", t[0], "chosen", t[1], "rejected", t[2])));
        }
        Path pairs = dir.resolve("pairs.jsonl");
        Files.write(pairs, lines);
        Path out = dir.resolve("heads");

        String[] result = run("train-rm", "--encoder", "minilm", "--pairs", pairs.toString(), "--out", out.toString(),
                "--ensemble", "2", "--epochs", "100", "--method", "smooth", "--json");
        assertThat(result[0]).as(result[2]).isEqualTo("0");
        String[] outLines = result[1].strip().split("\n");
        JsonNode summary = JSON.readTree(outLines[outLines.length - 1]);
        assertThat(summary.get("encoder").asText()).isEqualTo("all-MiniLM-L6-v2");
        assertThat(summary.get("pairs").asInt()).isEqualTo(6);
        assertThat(summary.get("heads").asInt()).isEqualTo(2);
        assertThat(summary.get("train_accuracy").asDouble()).isEqualTo(1.0);
        assertThat(Files.isRegularFile(out.resolve(RewardHeads.FILE))).isTrue();

        try (RewardSource source = RewardSources.create(RewardSpec.parse("embed:" + out))) {
            double[] scores = source.score(List.of(ScoringInput.of("c", topics[1][0], topics[1][1]),
                    ScoringInput.of("r", topics[1][0], topics[1][2])));
            assertThat(scores[0]).isGreaterThan(scores[1]);
            assertThat(source.modelRef().getName()).isEqualTo("rm-minilm");
        }
    }

    @Test
    void refusesWhatItCannotDoNamingTheOption(@TempDir Path dir) {
        assertThat(run("train-rm", "--encoder", "bert", "--pairs", "x.jsonl", "--out", dir.toString())[2])
                .contains("--encoder 'bert' is not known");
        assertThat(run("train-rm", "--encoder", "minilm", "--out", dir.toString())[2])
                .contains("exactly one of --rmb PATH and --pairs FILE");
        assertThat(run("train-rm", "--encoder", "minilm", "--pairs", "p.jsonl")[2]).contains("--encoder needs --out");
        assertThat(run("train-rm", "--encoder", "minilm", "--pairs", "p.jsonl", "--out", dir.toString(), "--method",
                "contrastive")[2]).contains("frozen");
        assertThat(run("train-rm", "--rmb", dir.toString())[2]).contains("add --encoder minilm");
        assertThat(run("train-rm", "--synthetic", "--pairs", "many")[2]).contains("--pairs takes a number");
    }
}
