package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.learner.app.LearnerConfig;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.models.load.PolicyLoader;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.sft.CorpusSftConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code rlhf sft --model DIR --data FILE} on a tiny Qwen2 folder: it trains (the loss it prints falls), writes a
 * policy checkpoint that the learner's loader takes, refuses option mixes and bad corpora with a reason; and
 * {@code rlhf learn --ptx-data} sets {@code learner.ptx.data}.
 */
class SftModelCommandTest {

    static final String CORPUS = String.join("\n",
            "{\"prompt\": \"what is red?\", \"response\": \"a colour.\"}",
            "{\"prompt\": \"say hi\", \"response\": \"hi there!\"}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"bye\"}, {\"role\": \"assistant\", "
                    + "\"content\": \"goodbye.\"}]}",
            "{\"text\": \"the cat sat on the mat.\"}") + "\n";

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

    private Path qwen2() throws Exception {
        Path dir = TinyHfModels.write(tmp.resolve("qwen2"), TinyHfModels.Architecture.QWEN2, 4);
        return TinyHfModels.writeTokenizer(dir, TinyHfModels.Architecture.QWEN2.config().vocabSize());
    }

    @Test
    void fineTunesAFolderOnTheCorpusAndWritesACheckpointTheLearnerLoads() throws Exception {
        Path model = qwen2();
        Path data = Files.writeString(tmp.resolve("corpus.jsonl"), CORPUS);
        Path sft = tmp.resolve("sft");

        int exit = run("sft", "--model", model.toString(), "--data", data.toString(), "--out", sft.toString(),
                "--steps", "30", "--batch", "4", "--lr", "3e-3", "--threads", "1", "--no-progress");

        assertThat(exit).as(err.toString()).isZero();
        assertThat(err.toString()).contains("Corpus: 4 examples from " + data)
                .contains("SFT policy written to " + sft.toAbsolutePath() + ": 30 steps");
        Matcher loss = Pattern.compile("loss per learned token ([0-9.]+) -> ([0-9.]+)").matcher(err.toString());
        assertThat(loss.find()).isTrue();
        assertThat(Double.parseDouble(loss.group(2))).isLessThan(0.5 * Double.parseDouble(loss.group(1)));
        Checkpoint checkpoint = PolicyLoader.initialCheckpoint(sft, 0);
        assertThat(HfPolicy.holds(checkpoint)).isTrue();
        assertThat(checkpoint.metadata()).containsEntry("sft.steps", "30").containsEntry("version", "0");
        try (PolicyModel policy = PolicyLoader.fromCheckpoint(checkpoint)) {
            assertThat(policy).isInstanceOf(HfPolicy.class);
        }
        assertThat(CheckpointStore.load(sft).modelFiles()).containsKey("tokenizer.json");
    }

    @Test
    void refusesOptionMixesAndBadCorporaWithAReason() throws Exception {
        Path model = qwen2();
        Path data = Files.writeString(tmp.resolve("corpus.jsonl"), CORPUS);

        assertThat(run("sft", "--data", data.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("--data needs --model");

        assertThat(run("sft", "--model", model.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("--model needs --data FILE.jsonl");

        assertThat(run("sft", "--model", model.toString(), "--data", data.toString(), "--preferences",
                tmp.resolve("p.jsonl").toString())).isEqualTo(2);
        assertThat(err.toString()).contains("--preferences belongs to the synthetic world's policy");

        Path bad = Files.writeString(tmp.resolve("bad.jsonl"), "{\"prompt\": \"a\", \"response\": \"b\"}\n"
                + "{\"prompt\": \"a\", \"response\": }\n");
        assertThat(run("sft", "--model", model.toString(), "--data", bad.toString(), "--out",
                tmp.resolve("o").toString(), "--no-progress")).isEqualTo(1);
        assertThat(err.toString()).contains("rlhf sft: " + bad + ":2: not valid JSON");
        assertThat(tmp.resolve("o")).doesNotExist();
    }

    @Test
    void theDefaultsAreTheConfigsAndLearnTakesThePtxCorpus() throws Exception {
        SftCommand sft = new SftCommand();
        new CommandLine(sft).parseArgs();
        CorpusSftConfig defaults = CorpusSftConfig.defaults();
        assertThat(new CorpusSftConfig(sft.epochs, 0, sft.batch, sft.learningRate, sft.weightDecay, sft.warmupSteps,
                sft.maxLength, sft.seed)).isEqualTo(defaults);

        Path config = Files.writeString(tmp.resolve("learner.properties"), "ppo.ptx.coef=0.2\n");
        LearnCommand learn = new LearnCommand();
        new CommandLine(learn).parseArgs("--config", config.toString(), "--init-checkpoint", "/sft", "--ptx-data",
                "/data/ptx.jsonl");
        assertThat(new LearnerConfig(learn.settings()).ptxData()).contains(Path.of("/data/ptx.jsonl"));
    }
}
