package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.hf.HfRewardModel;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.rewardstream.scoring.model.HfRewardSource;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code rlhf train-rm --model DIR} on tiny Qwen2-format folders: an ensemble trained with a Secrets II method from a
 * JSONL file of text pairs is written as Hugging Face reward folders that the reward stream's {@code hf:DIR} source
 * scores, the synthetic world trains a reward folder further and compares methods on it, the built-in transformer
 * reads the same plain JSONL, and what {@code --model} cannot do is refused with a reason.
 */
class TrainRmModelCommandTest {

    private static final String[] TOPICS = {"sea", "moon", "city", "forest", "river", "cat", "song", "road", "storm",
        "garden", "bread", "winter", "train", "lamp", "hill", "book", "rain", "star", "field", "boat"};

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

    private Path qwen2(String name, boolean reward) throws Exception {
        TinyHfModels.Architecture arch = TinyHfModels.Architecture.QWEN2;
        Path dir = reward ? TinyHfModels.writeReward(tmp.resolve(name), arch, 31, 0)
                : TinyHfModels.write(tmp.resolve(name), arch, 31);
        return TinyHfModels.writeTokenizer(dir, arch.config().vocabSize());
    }

    /** 40 pairs, one JSON object a line with only the three texts (every 10th is held out). */
    private Path pairsFile() throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            String topic = TOPICS[i % TOPICS.length];
            boolean better = i < TOPICS.length;
            String good = "the " + topic + " is good";
            String bad = "the " + topic + " is bad";
            lines.add(json.createObjectNode().put("prompt", "which " + topic + " is " + (better ? "better" : "worse")
                    + "?").put("chosen", better ? good : bad).put("rejected", better ? bad : good).toString());
        }
        return Files.write(tmp.resolve("pairs.jsonl"), lines);
    }

    private JsonNode lastJsonLine() throws Exception {
        String[] lines = out.toString().strip().split("\n");
        return new ObjectMapper().readTree(lines[lines.length - 1]);
    }

    @Test
    void anEnsembleFromACausalLmIsWrittenAsRewardFoldersThatHfDirScores() throws Exception {
        Path model = qwen2("causal", false);
        Path outDir = tmp.resolve("rm");

        int code = run("train-rm", "--model", model.toString(), "--file", pairsFile().toString(), "--method",
                "flip+margin", "--ensemble", "2", "--epochs", "2", "--batch-size", "8", "--lr", "3e-3", "--out",
                outDir.toString(), "--json", "--no-progress", "--threads", "1");

        assertThat(code).as(err.toString()).isZero();
        JsonNode result = lastJsonLine();
        assertThat(result.get("method").asText()).isEqualTo("flip+margin");
        assertThat(result.get("model").asText()).isEqualTo(model.toAbsolutePath().toString());
        assertThat(result.get("train_pairs").asInt()).isEqualTo(36);
        assertThat(result.get("heldout_pairs").asInt()).isEqualTo(4);
        assertThat(result.get("members")).hasSize(2);
        double[] rewards = new double[2];
        ScoringInput input = ScoringInput.of("g1", "which sea is better?", "the sea is good");
        for (int m = 0; m < 2; m++) {
            JsonNode member = result.get("members").get(m);
            Path folder = outDir.resolve("member-" + m);
            assertThat(member.get("folder").asText()).isEqualTo(folder.toAbsolutePath().toString());
            assertThat(member.get("eval/pairs").asInt()).isEqualTo(4);
            JsonNode config = new ObjectMapper().readTree(folder.resolve("config.json").toFile());
            assertThat(config.get("architectures").get(0).asText()).isEqualTo("Qwen2ForSequenceClassification");
            assertThat(config.get("num_labels").asInt()).isEqualTo(1);
            assertThat(config.get("pad_token_id").asInt()).isZero();
            assertThat(folder.resolve("tokenizer.json")).hasSameBinaryContentAs(model.resolve("tokenizer.json"));
            try (HfRewardSource source = HfRewardSource.load(folder, "rm-" + m, 0, 8, 0)) {
                rewards[m] = source.score(List.of(input))[0];
                // hf:DIR's reward is HfRewardModel's on the ids it renders
                int[] ids = source.encode(input);
                try (HfRewardModel rm = HfRewardModel.load(folder);
                     NDManager step = rm.manager().newSubManager()) {
                    assertThat((double) rm.rewards(step.create(ids, new Shape(1, ids.length))).getFloat(0))
                            .isCloseTo(rewards[m], within(1e-5));
                }
            }
            assertThat(rewards[m]).isFinite();
        }
        assertThat(rewards[0]).as("members start from their own heads").isNotEqualTo(rewards[1]);
    }

    @Test
    void theSyntheticWorldTrainsARewardFolderWithGoldAndBestOfNAccuracy() throws Exception {
        Path model = qwen2("reward", true);

        int code = run("train-rm", "--model", model.toString(), "--synthetic", "--pairs", "32", "--heldout", "16",
                "--method", "smooth:0.1", "--ensemble", "1", "--epochs", "1", "--batch-size", "16", "--context", "48",
                "--json", "--no-progress", "--threads", "1");

        assertThat(code).as(err.toString()).isZero();
        JsonNode member = lastJsonLine().get("members").get(0);
        assertThat(member.get("eval/pairs").asInt()).isEqualTo(16);
        assertThat(member.get("eval/gold_accuracy").asDouble()).isBetween(0.0, 1.0);
        assertThat(member.get("eval/bon_accuracy").asDouble()).isBetween(0.0, 1.0);
        assertThat(member.has("folder")).isFalse();
    }

    @Test
    void compareRunsTheMethodsOnTheModel() throws Exception {
        Path model = qwen2("reward", true);

        int code = run("train-rm", "--model", model.toString(), "--synthetic", "--compare", "bt,margin", "--seeds", "1",
                "--pairs", "16", "--heldout", "8", "--ensemble", "1", "--epochs", "1", "--batch-size", "8",
                "--context", "48", "--json", "--no-progress", "--threads", "1");

        assertThat(code).as(err.toString()).isZero();
        JsonNode methods = lastJsonLine().get("methods");
        assertThat(methods.has("bt")).isTrue();
        assertThat(methods.get("margin").get("gold_acc").asDouble()).isBetween(0.0, 1.0);
    }

    @Test
    void withoutModelThePlainJsonlTrainsTheBuiltInTransformerAsBefore() throws Exception {
        Path outDir = tmp.resolve("builtin");

        int code = run("train-rm", "--file", pairsFile().toString(), "--ensemble", "1", "--epochs", "1",
                "--batch-size", "8", "--out", outDir.toString(), "--json", "--no-progress", "--threads", "1");

        assertThat(code).as(err.toString()).isZero();
        JsonNode result = lastJsonLine();
        assertThat(result.has("model")).isFalse();
        assertThat(result.get("train_pairs").asInt()).isEqualTo(36);
        assertThat(result.get("members").get(0).get("checkpoint").asText())
                .isEqualTo(outDir.resolve("member-0").toAbsolutePath().toString());
        assertThat(outDir.resolve("member-0/manifest.json")).exists();
    }

    @Test
    void refusesWhatModelCannotDoWithAReason() throws Exception {
        Path model = qwen2("causal", false);
        Path pairs = pairsFile();

        assertThat(run("train-rm", "--model", model.toString(), "--online")).isEqualTo(2);
        assertThat(err.toString()).contains("--model cannot be combined with --online");

        err.getBuffer().setLength(0);
        assertThat(run("train-rm", "--model", model.toString(), "--file", pairs.toString(), "--d-model", "64"))
                .isEqualTo(2);
        assertThat(err.toString()).contains("--d-model").contains(model.resolve("config.json").toString());

        err.getBuffer().setLength(0);
        Path bad = Files.writeString(tmp.resolve("bad.jsonl"), "{\"prompt\":\"p\",\"chosen\":\"a\"}\n");
        assertThat(run("train-rm", "--model", model.toString(), "--file", bad.toString(), "--no-progress"))
                .isEqualTo(1);
        assertThat(err.toString()).contains(bad.toString()).contains("line 1").contains("'rejected'");

        err.getBuffer().setLength(0);
        Path gpt2 = TinyHfModels.write(tmp.resolve("gpt2"), TinyHfModels.Architecture.GPT2, 1);
        TinyHfModels.writeTokenizer(gpt2, 128);  // a tokenizer with more ids than GPT-2's embedding of 96
        assertThat(run("train-rm", "--model", gpt2.toString(), "--file", pairs.toString(), "--no-progress"))
                .isEqualTo(2);
        assertThat(err.toString()).contains("beyond the embedding of vocab_size 96");
    }
}
