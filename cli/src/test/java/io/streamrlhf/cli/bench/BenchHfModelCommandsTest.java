package io.streamrlhf.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfModelConfig;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.models.hf.llama.LlamaConfig;
import io.streamrlhf.models.hf.safetensors.SafetensorsWeights;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code rlhf bench models --model DIR}, {@code rlhf bench learner --model DIR} and {@code rlhf bench hf-folder}: a
 * tiny Hugging Face folder measured end to end through the commands, today's JSON keys with positive figures, the
 * PyTorch baseline's figures merged in (from a stand-in script that records its arguments), and the refusals.
 */
class BenchHfModelCommandsTest {

    private static final String[] WORKLOAD = {"--batch", "2", "--prompt", "3", "--new-tokens", "3", "--threads", "1",
        "--seconds", "0.05", "--seed", "4"};

    @TempDir
    static Path tmp;

    static Path model;

    @BeforeAll
    static void tinyFolder() throws Exception {
        model = TinyHfModels.write(tmp.resolve("gpt2"), TinyHfModels.Architecture.GPT2, 7);
        TinyHfModels.writeTokenizer(model, TinyHfModels.Architecture.GPT2.config().vocabSize());
    }

    /** The exit code, standard output and standard error of one command line. */
    record Run(int exit, String out, String err) {

        JsonNode lastJson() throws Exception {
            List<String> lines = out.lines().toList();
            return new ObjectMapper().readTree(lines.get(lines.size() - 1));
        }
    }

    private static Run run(Callable<Integer> command, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(command);
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private static String[] args(String... first) {
        String[] all = new String[first.length + WORKLOAD.length];
        System.arraycopy(first, 0, all, 0, first.length);
        System.arraycopy(WORKLOAD, 0, all, first.length, WORKLOAD.length);
        return all;
    }

    @Test
    void benchModelsMeasuresTheFolderWithTodaysKeys() throws Exception {
        Run run = run(new BenchModelsCommand(), args("--model", model.toString(), "--json"));

        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out().lines()).hasSize(1);
        JsonNode json = run.lastJson();
        for (String key : List.of("sample_tokens_per_s", "train_seq_per_s", "sample_ms_per_batch", "train_ms_per_step",
                "forward_tokens_per_s", "n_params")) {
            assertThat(json.path(key).asDouble()).as(key).isPositive();
        }
        assertThat(json.path("max_logprob_diff").asDouble()).isBetween(0.0, 1e-4);
        assertThat(json.path("config").path("vocab").asInt()).isEqualTo(96);
        assertThat(json.path("config").path("architecture").asText()).isEqualTo("GPT2LMHeadModel");
        assertThat(json.path("config").path("batch").asInt()).isEqualTo(2);
        assertThat(json.has("torch_sample_tokens_per_s")).isFalse();
    }

    @Test
    void benchLearnerMeasuresThePpoUpdateOfTheFolder() throws Exception {
        Run run = run(new BenchLearnerCommand(), args("--model", model.toString(), "--warmup-s", "0", "--json"));

        assertThat(run.exit()).as(run.err()).isZero();
        JsonNode json = run.lastJson();
        for (String key : List.of("update_seq_per_s", "achieved_gflops", "peak_gflops", "ms_per_update", "n_params",
                "n_params_flops")) {
            assertThat(json.path(key).asDouble()).as(key).isPositive();
        }
        assertThat(json.has("ratio")).isTrue();  // rounded to 3 digits: 0.000 for a model this small
        // no RSS window by default with --model: an update of a real vocabulary takes about a second
        assertThat(json.path("rss_updates").asInt()).isZero();
        assertThat(json.path("config").path("d_model").asInt()).isEqualTo(48);
    }

    @Test
    void theBaselinesFiguresAndTheRatiosJoinTheJsonLine() throws Exception {
        Path argsFile = tmp.resolve("baseline-args.txt");
        Path script = tmp.resolve("fake-torch-baseline");
        // a stand-in for shared/tools/torch-baseline/run: records its arguments, prints a config dump and the JSON
        Files.writeString(script, "#!/bin/sh\nprintf '[%s]' \"$@\" > '" + argsFile + "'\necho 'PyTorch built with: ...'\n"
                + "echo '{\"torch\": \"1.13.0a0\", \"threads\": 1, \"sample_tokens_per_s\": 50.0, "
                + "\"ppo_sequences_per_s\": 4.0, \"ppo_ms_per_step\": 500.0}'\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));

        Run models = run(new BenchModelsCommand(), args("--model", model.toString(), "--baseline", script.toString()));
        assertThat(models.exit()).as(models.err()).isZero();
        assertThat(Files.readString(argsFile)).isEqualTo("[--hf][" + model + "][--batch][2][--prompt][3][--new-tokens][3]"
                + "[--threads][1][--seconds][0.05][--seed][4][--warmup][3][--phases][sample,ppo][--mm-sizes][]");
        JsonNode json = models.lastJson();
        assertThat(json.path("torch_sample_tokens_per_s").asDouble()).isEqualTo(50.0);
        assertThat(json.path("torch_train_seq_per_s").asDouble()).isEqualTo(4.0);
        assertThat(json.path("sample_vs_torch").asDouble()).isCloseTo(
                json.path("sample_tokens_per_s").asDouble() / 50.0, offset(0.001));
        assertThat(json.path("train_vs_torch").asDouble()).isCloseTo(
                json.path("train_seq_per_s").asDouble() / 4.0, offset(0.001));
        assertThat(json.path("torch_version").asText()).isEqualTo("1.13.0a0");
        assertThat(json.path("torch_command").asText()).startsWith(script + " --hf " + model)
                .endsWith("--mm-sizes ''");
        assertThat(models.out()).contains("PyTorch eager: 50 tokens/s, 4.0 sequences/s");

        Run learner = run(new BenchLearnerCommand(), args("--model", model.toString(), "--warmup-s", "0",
                "--baseline", script.toString(), "--json"));
        assertThat(learner.exit()).as(learner.err()).isZero();
        assertThat(Files.readString(argsFile)).contains("[--phases][ppo]");
        JsonNode learned = learner.lastJson();
        assertThat(learned.path("torch_update_seq_per_s").asDouble()).isEqualTo(4.0);
        assertThat(learned.path("update_vs_torch").asDouble()).isCloseTo(
                learned.path("update_seq_per_s").asDouble() / 4.0, offset(0.001));
    }

    @Test
    void aBaselineThatPrintsNoJsonFailsNamingItsCommandAndOutput() throws Exception {
        Path script = tmp.resolve("broken-baseline");
        Files.writeString(script, "#!/bin/sh\necho 'torch-baseline setup: python3.11 not found' >&2\nexit 1\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new BenchModelsCommand());
        cli.setOut(new PrintWriter(new StringWriter()));
        cli.setErr(new PrintWriter(err));
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println(ex.getMessage());
            return 1;
        });
        assertThat(cli.execute(args("--model", model.toString(), "--baseline", script.toString(), "--json")))
                .isEqualTo(1);
        assertThat(err.toString()).contains("the PyTorch baseline `" + script + " --hf " + model, "exited 1",
                "python3.11 not found");
    }

    @Test
    void shapeFlagsBaselineWithoutAFolderAndMissingFoldersAreRefused() {
        Run vocab = run(new BenchModelsCommand(), "--model", model.toString(), "--vocab", "100");
        assertThat(vocab.exit()).isEqualTo(2);
        assertThat(vocab.err()).contains("rlhf bench models: --vocab 100 does not go with --model " + model,
                "config.json sets the model's shape");

        Run heads = run(new BenchLearnerCommand(), "--model", model.toString(), "--heads", "2");
        assertThat(heads.exit()).isEqualTo(2);
        assertThat(heads.err()).contains("rlhf bench learner: --heads 2 does not go with --model");

        Run noModel = run(new BenchModelsCommand(), "--baseline", "/bin/true");
        assertThat(noModel.exit()).isEqualTo(2);
        assertThat(noModel.err()).contains("--baseline needs --model");

        Run missing = run(new BenchModelsCommand(), "--model", tmp.resolve("nowhere").toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("--model " + tmp.resolve("nowhere") + " is not a directory");

        Run notExecutable = run(new BenchModelsCommand(), "--model", model.toString(), "--baseline",
                model.resolve("config.json").toString());
        assertThat(notExecutable.exit()).isEqualTo(2);
        assertThat(notExecutable.err()).contains("is not an executable file");
        assertThat(vocab.out() + heads.out() + noModel.out() + missing.out()).isEmpty();
    }

    @Test
    void hfFolderWritesTheQwen2BenchShapeAndRefusesUnknownShapes() throws Exception {
        Path out = tmp.resolve("qwen2-bench");
        Run run = run(new BenchHfFolderCommand(), "--shape", "qwen2-bench", "--out", out.toString());

        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).contains("wrote " + out + ": Qwen2ForCausalLM, vocab 32000, d 256, 4 layers, 8 heads",
                "hf init");
        HfModelConfig config = HfModelConfig.read(out);
        assertThat(config).isInstanceOf(LlamaConfig.class);
        LlamaConfig qwen2 = (LlamaConfig) config;
        assertThat(qwen2.num_key_value_heads()).isEqualTo(2);
        assertThat(qwen2.intermediate_size()).isEqualTo(688);
        assertThat(qwen2.tie_word_embeddings()).isTrue();
        assertThat(out.resolve("tokenizer.json")).exists();
        // transformers' initialisation: unit norm gains, N(0, 0.02²) embeddings
        try (NDManager m = ModelRuntime.init().newBaseManager()) {
            SafetensorsWeights weights = SafetensorsWeights.open(out);
            float[] norm = weights.load(m, "model.norm.weight").toFloatArray();
            assertThat(norm).hasSize(256).containsOnly(1f);
            float[] embed = weights.load(m, "model.embed_tokens.weight").toFloatArray();
            double sq = 0;
            for (float x : embed) {
                sq += (double) x * x;
            }
            assertThat(Math.sqrt(sq / embed.length)).isCloseTo(0.02, offset(0.001));
        }

        Run unknown = run(new BenchHfFolderCommand(), "--shape", "llama-huge", "--out", tmp.resolve("x").toString());
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("no bench shape 'llama-huge' (expected one of [gpt2-bench, qwen2-bench])");
        Run badInit = run(new BenchHfFolderCommand(), "--shape", "gpt2-bench", "--init", "xavier", "--out",
                tmp.resolve("y").toString());
        assertThat(badInit.exit()).isEqualTo(2);
        assertThat(badInit.err()).contains("--init xavier: expected hf or stress");
    }
}
