package io.streamrlhf.models.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfFormatException;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.models.load.PolicyLoader;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.SamplingParams;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ModelBenchTest {

    @TempDir
    Path tmp;

    @Test
    void aShortRunReportsThroughputAndAnExactLogprobGapAsOneJsonObject() throws Exception {
        ModelRuntime.init(1);
        ModelBench.Config cfg = new ModelBench.Config(32, 32, 1, 2, 16, 8, 4, 6, 1, 0.2, 3);
        List<String> progress = new ArrayList<>();
        ModelBench.Result r = ModelBench.run(cfg, progress::add);
        assertThat(r.sampleTokensPerSecond()).isPositive();
        assertThat(r.trainSequencesPerSecond()).isPositive();
        assertThat(r.maxLogprobDiff()).isLessThan(1e-4);
        assertThat(progress).anyMatch(l -> l.contains("tokens/s"));
        JsonNode json = new ObjectMapper().readTree(r.toJson());
        assertThat(json.path("sample_tokens_per_s").asDouble()).isPositive();
        assertThat(json.path("train_seq_per_s").asDouble()).isPositive();
        assertThat(json.has("max_logprob_diff")).isTrue();
        assertThat(json.path("config").path("d_model").asInt()).isEqualTo(32);
        assertThat(json.path("config").path("new_tokens").asInt()).isEqualTo(6);
    }

    @ParameterizedTest
    @EnumSource(value = TinyHfModels.Architecture.class, names = {"GPT2", "QWEN2"})
    void aHuggingFaceFolderIsMeasuredWithTodaysKeysAndItsOwnShape(TinyHfModels.Architecture architecture)
            throws Exception {
        ModelRuntime.init(1);
        Path dir = TinyHfModels.write(tmp.resolve("model"), architecture, 5);
        TinyHfModels.writeTokenizer(dir, architecture.config().vocabSize());
        // the shape fields of the workload are the folder's to set: these stand-ins must not survive
        ModelBench.Config workload = new ModelBench.Config(7, 8, 1, 2, 10, 3, 4, 5, 1, 0.1, 2);
        List<String> progress = new ArrayList<>();
        ModelBench.Result r = ModelBench.run(dir, workload, progress::add);

        JsonNode json = new ObjectMapper().readTree(r.toJson());
        for (String key : List.of("sample_tokens_per_s", "train_seq_per_s", "sample_ms_per_batch",
                "train_ms_per_step", "forward_tokens_per_s")) {
            assertThat(json.path(key).asDouble()).as(key).isPositive();
        }
        // the HF sampler's log-probs are the training forward's (HfSamplerTest holds them to 1e-4)
        assertThat(json.path("max_logprob_diff").asDouble()).isLessThan(1e-4);
        JsonNode config = json.path("config");
        assertThat(config.path("vocab").asInt()).isEqualTo(architecture.config().vocabSize());
        assertThat(config.path("d_model").asInt()).isEqualTo(architecture.config().hiddenSize());
        assertThat(config.path("layers").asInt()).isEqualTo(architecture.config().numLayers());
        assertThat(config.path("heads").asInt()).isEqualTo(architecture.config().numHeads());
        assertThat(config.path("context").asInt()).isEqualTo(architecture.config().contextLength());
        assertThat(config.path("batch").asInt()).isEqualTo(3);
        assertThat(config.path("prompt").asInt()).isEqualTo(4);
        assertThat(config.path("new_tokens").asInt()).isEqualTo(5);
        assertThat(config.path("model").asText()).isEqualTo(dir.toString());
        assertThat(config.path("architecture").asText()).isEqualTo(architecture.config().architecture());
        assertThat(config.path("kv_heads").asInt()).isEqualTo(architecture == TinyHfModels.Architecture.QWEN2 ? 2 : 4);
        assertThat(json.path("n_params").asLong()).isEqualTo(r.parameters()).isPositive();
        assertThat(progress).anyMatch(l -> l.contains(architecture.config().architecture() + " from " + dir));
    }

    @Test
    void theForwardAndThePpoStepLeaveNoArrayBehind() throws Exception {
        ModelRuntime.init(1);
        TinyHfModels.Architecture arch = TinyHfModels.Architecture.QWEN2;
        Path dir = TinyHfModels.writeTokenizer(TinyHfModels.write(tmp.resolve("model"), arch, 6),
                arch.config().vocabSize());
        try (HfPolicy policy = HfPolicy.load(dir, 0); HfPolicy reference = policy.referenceCopy()) {
            int[][] prompts = ModelBench.randomPrompts(new ModelBench.Config(arch.config().vocabSize(), 8, 1, 2, 16,
                    4, 4, 6, 1, 0.1, 3), new Random(1));
            SampleResult batch = PolicyLoader.sampler(policy).sample(prompts, SamplingParams.of(6, -1, 0, 1),
                    new int[0]);
            NDManager root = policy.manager();
            List<Integer> counts = new ArrayList<>();
            try (ModelBench.PpoWorkload ppo = new ModelBench.PpoWorkload(policy.manager().getEngine(), policy,
                    reference, batch, 4, new Random(1))) {
                for (int step = 0; step < 3; step++) {
                    ppo.step();
                    ModelBench.forward(policy, ppo.batch());
                    counts.add(root.getManagedArrays().size());
                }
            }
            // the first step makes the optimiser's moments; after it nothing may accumulate
            assertThat(counts.get(2)).as("arrays after steps 1, 2, 3: %s", counts).isEqualTo(counts.get(1));
        }
    }

    @Test
    void aFolderCountsFlopParametersAsTheBaselineDoes() throws Exception {
        ModelRuntime.init(1);
        // tied GPT-2: all but wte and wpe, plus the tied output matrix once; the value head is counted
        Path dir = TinyHfModels.write(tmp.resolve("gpt2"), TinyHfModels.Architecture.GPT2, 1);
        try (HfPolicy policy = HfPolicy.load(dir, 16)) {
            long all = policy.namedArrays(true).values().stream().mapToLong(a -> a.size()).sum();
            long wte = 96L * 48;
            long wpe = 32L * 48;
            assertThat(ModelBench.flopParameters(policy)).isEqualTo(all - wte - wpe + wte);
            assertThat(ModelBench.attentionWidth(policy)).isEqualTo(48);
        }
    }

    @Test
    void aFolderTooShortForTheWorkloadIsRefusedNamingItsConfig() throws Exception {
        Path dir = TinyHfModels.write(tmp.resolve("gpt2"), TinyHfModels.Architecture.GPT2, 1);
        ModelBench.Config workload = new ModelBench.Config(7, 8, 1, 2, 40, 3, 20, 20, 1, 0.1, 2);
        assertThatThrownBy(() -> ModelBench.run(dir, workload, line -> { }))
                .isInstanceOf(HfFormatException.class)
                .hasMessageContaining("config.json").hasMessageContaining("n_positions");
    }

    @Test
    void configRefusesWhatTheBaselineRefuses() {
        assertThatThrownBy(() -> new ModelBench.Config(64, 128, 2, 4, 16, 64, 8, 32, 1, 1, 0))
                .hasMessageContaining("exceeds --context 16");
        assertThatThrownBy(() -> new ModelBench.Config(64, 130, 2, 4, 64, 64, 8, 32, 1, 1, 0))
                .hasMessageContaining("not divisible by --heads 4");
    }

    @Test
    void defaultsAreTheDemoPolicyOnTheBaselineWorkload() {
        ModelBench.Config d = ModelBench.Config.defaults();
        assertThat(d.dModel()).isEqualTo(128);
        assertThat(d.layers()).isEqualTo(2);
        assertThat(d.heads()).isEqualTo(4);
        assertThat(d.batch()).isEqualTo(64);
        assertThat(d.newTokens()).isEqualTo(32);
        assertThat(d.vocab()).isGreaterThan(100);  // the synthetic world's vocabulary
    }
}
