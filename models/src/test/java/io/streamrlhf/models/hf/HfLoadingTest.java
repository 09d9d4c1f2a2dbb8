package io.streamrlhf.models.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.TinyHfModels.Architecture;
import io.streamrlhf.models.hf.llama.LlamaConfig;
import io.streamrlhf.models.hf.safetensors.SafetensorsDtype;
import io.streamrlhf.models.hf.safetensors.SafetensorsWeights;
import io.streamrlhf.models.hf.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loading as a lookup by tensor name: twins in other dtypes and layouts load to the same numbers, and every
 * refusal names the file and the tensor or setting.
 */
class HfLoadingTest {

    private static final int[] TOKENS = {5, 17, 3, 42, 8, 23, 61, 0, 11, 36, 2, 50};

    @TempDir
    Path tmp;
    private NDManager manager;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    @BeforeEach
    void open() {
        manager = ModelRuntime.init().newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    private static float[] logits(Path dir) {
        try (HfCausalLm lm = HfCausalLm.load(dir); NDManager step = lm.manager().newSubManager()) {
            return lm.logits(step.create(TOKENS, new Shape(1, TOKENS.length))).logSoftmax(-1).toFloatArray();
        }
    }

    private Map<String, NDArray> readAll(Path dir) {
        SafetensorsWeights weights = SafetensorsWeights.open(dir);
        Map<String, NDArray> out = new TreeMap<>();
        weights.names().forEach(name -> out.put(name, weights.load(manager, name)));
        return out;
    }

    private static float maxAbsDiff(float[] a, float[] b) {
        assertThat(a).hasSameSizeAs(b);
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    @Test
    void bf16AndShardedF16TwinsHoldTheF32WeightsRoundedAndGiveNearlyTheSameLogProbs() throws IOException {
        for (SafetensorsDtype dtype : new SafetensorsDtype[] {SafetensorsDtype.BF16, SafetensorsDtype.F16}) {
            Path f32 = TinyHfModels.write(tmp.resolve("f32"), Architecture.QWEN2.config(), 3, SafetensorsDtype.F32, 1);
            Path twin = TinyHfModels.write(tmp.resolve(dtype.name()), Architecture.QWEN2.config(), 3, dtype, 3);
            Map<String, NDArray> exact = readAll(f32);
            Map<String, NDArray> rounded = readAll(twin);
            assertThat(rounded.keySet()).isEqualTo(exact.keySet());
            int significand = dtype == SafetensorsDtype.BF16 ? 8 : 11;
            for (String name : exact.keySet()) {
                float[] a = exact.get(name).toFloatArray();
                float[] b = rounded.get(name).toFloatArray();
                for (int i = 0; i < a.length; i++) {
                    double halfUlp = Math.scalb(1.0, Math.getExponent(a[i]) - significand);
                    assertThat((double) Math.abs(a[i] - b[i])).as("%s %s[%d]", dtype, name, i)
                            .isLessThanOrEqualTo(Math.max(halfUlp, 1e-7));
                }
            }
            float diff = maxAbsDiff(logits(f32), logits(twin));
            // rounding the weights moves the log-probs (all V of them at every position) a little: bf16 keeps 8
            // significant bits, f16 11; the rounded folders' exact numbers are checked against PyTorch elsewhere
            assertThat(diff).as(dtype.name()).isGreaterThan(0f)
                    .isLessThan(dtype == SafetensorsDtype.BF16 ? 0.2f : 0.03f);
        }
    }

    @Test
    void shardedF32TwinGivesIdenticalLogits() throws IOException {
        Path single = TinyHfModels.write(tmp.resolve("one"), Architecture.GPT2.config(), 1, SafetensorsDtype.F32, 1);
        Path sharded = TinyHfModels.write(tmp.resolve("two"), Architecture.GPT2.config(), 1, SafetensorsDtype.F32, 2);
        assertThat(sharded.resolve(SafetensorsWeights.INDEX_FILE)).exists();
        assertThat(logits(sharded)).containsExactly(logits(single));
    }

    @Test
    void gpt2HubLayoutWithoutPrefixAndWithMaskBuffersLoadsTheSameModel() throws IOException {
        Path saved = TinyHfModels.write(tmp.resolve("saved"), Architecture.GPT2.config(), 1, SafetensorsDtype.F32, 1);
        Path hub = tmp.resolve("hub");
        Files.createDirectories(hub);
        Files.copy(saved.resolve(HfModelConfig.FILE), hub.resolve(HfModelConfig.FILE));
        Map<String, NDArray> renamed = new TreeMap<>();
        readAll(saved).forEach((name, t) -> renamed.put(name.substring("transformer.".length()), t));
        for (int l = 0; l < 2; l++) {
            renamed.put("h." + l + ".attn.bias", manager.ones(new Shape(1, 1, 32, 32)));
            renamed.put("h." + l + ".attn.masked_bias", manager.create(-1e4f));
        }
        SafetensorsWriter.writeFolder(hub, renamed, SafetensorsDtype.F32, 1);
        assertThat(logits(hub)).containsExactly(logits(saved));
    }

    @Test
    void rotaryBuffersAndATiedModelsStoredHeadAreSkipped() throws IOException {
        Path saved = TinyHfModels.write(tmp.resolve("saved"), Architecture.QWEN2.config(), 3, SafetensorsDtype.F32, 1);
        Path old = tmp.resolve("old");
        Files.createDirectories(old);
        Files.copy(saved.resolve(HfModelConfig.FILE), old.resolve(HfModelConfig.FILE));
        Map<String, NDArray> weights = readAll(saved);
        weights.put("model.layers.0.self_attn.rotary_emb.inv_freq", manager.ones(new Shape(8)));
        weights.put("lm_head.weight", weights.get("model.embed_tokens.weight"));
        SafetensorsWriter.writeFolder(old, weights, SafetensorsDtype.F32, 1);
        assertThat(logits(old)).containsExactly(logits(saved));
    }

    @Test
    void tiedModelBuildsNoLmHeadAndUntiedOneDoes() {
        assertThat(HfCausalLm.build(Architecture.QWEN2.config()).namedParameters().byName())
                .doesNotContainKey("lm_head.weight")
                .containsKeys("model.layers.0.self_attn.q_proj.bias", "model.layers.1.self_attn.v_proj.bias")
                .doesNotContainKey("model.layers.0.self_attn.o_proj.bias");
        LlamaConfig llamaWithBias = new LlamaConfig(null, null, 80, 32, 80, 2, 4, 2, null, null, 64, null, null,
                null, null, null, null, true, null, null, null);
        assertThat(HfCausalLm.build(llamaWithBias).namedParameters().byName())
                .containsKeys("model.layers.0.self_attn.q_proj.bias", "model.layers.0.self_attn.o_proj.bias");
        Map<String, Parameter> mistral = HfCausalLm.build(Architecture.MISTRAL.config()).namedParameters().byName();
        assertThat(mistral).containsKey("lm_head.weight").doesNotContainKey("model.layers.0.self_attn.q_proj.bias");
        assertThat(HfCausalLm.build(Architecture.MISTRAL.config()).namedParameters()
                .shape("model.layers.0.self_attn.k_proj.weight")).isEqualTo(new Shape(8, 32));  // 1 KV head x 8
        assertThat(HfCausalLm.build(Architecture.GPT2.config()).namedParameters()
                .shape("transformer.h.0.attn.c_attn.weight")).isEqualTo(new Shape(48, 144));  // Conv1D [in, out]
    }

    // ---- refusals ----

    private Path folder(Architecture arch, Consumer<ObjectNode> editConfig) throws IOException {
        Path dir = TinyHfModels.write(tmp.resolve(arch.name().toLowerCase()), arch.config(), 2,
                SafetensorsDtype.F32, 1);
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(dir.resolve(HfModelConfig.FILE).toFile());
        editConfig.accept(config);
        json.writeValue(dir.resolve(HfModelConfig.FILE).toFile(), config);
        return dir;
    }

    private static void assertRefused(Path dir, String... parts) {
        var thrown = assertThatThrownBy(() -> HfCausalLm.load(dir).close()).isInstanceOf(HfFormatException.class);
        for (String part : parts) {
            thrown.hasMessageContaining(part);
        }
    }

    @Test
    void unsupportedArchitectureIsRefusedNamingFileAndArchitecture() throws IOException {
        Path dir = folder(Architecture.GPT2, c -> c.putArray("architectures").add("GPTNeoXForCausalLM"));
        assertRefused(dir, dir.resolve("config.json").toString(), "architectures [GPTNeoXForCausalLM]",
                "not supported");
    }

    @Test
    void ropeScalingOtherThanDefaultIsRefused() throws IOException {
        Path dir = folder(Architecture.LLAMA, c -> c.putObject("rope_scaling").put("rope_type", "llama3")
                .put("factor", 8.0));
        assertRefused(dir, dir.resolve("config.json").toString(), "rope_scaling type llama3");
        Path ok = folder(Architecture.QWEN2, c -> c.putObject("rope_scaling").put("type", "default"));
        HfCausalLm.load(ok).close();
    }

    @Test
    void partialRotaryFactorAndOtherActivationsAreRefused() throws IOException {
        assertRefused(folder(Architecture.LLAMA, c -> c.put("partial_rotary_factor", 0.5)),
                "config.json", "partial_rotary_factor 0.5");
        assertRefused(folder(Architecture.MISTRAL, c -> c.put("hidden_act", "gelu")), "config.json",
                "hidden_act gelu");
        assertRefused(folder(Architecture.GPT2, c -> c.put("activation_function", "relu")), "config.json",
                "activation_function relu");
    }

    @Test
    void slidingWindowsAreRefusedWhereTheyWouldMatter() throws IOException {
        assertRefused(folder(Architecture.QWEN2, c -> c.put("use_sliding_window", true)), "config.json",
                "use_sliding_window true");
        Path mistral = folder(Architecture.MISTRAL, c -> c.put("sliding_window", 16));
        assertRefused(mistral, "config.json", "sliding_window 16", "context run (64)");
        // a context within the window runs: the window never takes effect
        assertThat(HfModelConfig.read(mistral, 16)).isInstanceOf(LlamaConfig.class);
        Path absent = folder(Architecture.MISTRAL, c -> c.remove("sliding_window"));
        assertThat(HfModelConfig.read(absent).contextLength()).isEqualTo(64);  // default window 4096 >= 64
    }

    @Test
    void aPickleOnlyFolderIsRefusedNamingTheFile() throws IOException {
        Path dir = folder(Architecture.GPT2, c -> { });
        Files.delete(dir.resolve("model.safetensors"));
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {1, 2, 3});
        assertRefused(dir, dir.resolve("pytorch_model.bin").toString(), "only safetensors");
    }

    @Test
    void missingTensorIsRefusedNamingFileAndTensor() throws IOException {
        Path dir = rewriteWeights(Architecture.LLAMA, w -> w.remove("model.layers.1.mlp.up_proj.weight"));
        assertRefused(dir, dir.resolve("model.safetensors").toString(),
                "missing tensor model.layers.1.mlp.up_proj.weight");
    }

    @Test
    void shapeMismatchIsRefusedNamingFileTensorAndShapes() throws IOException {
        Path dir = rewriteWeights(Architecture.LLAMA,
                w -> w.put("model.layers.0.self_attn.k_proj.weight", manager.zeros(new Shape(32, 32))));
        assertRefused(dir, dir.resolve("model.safetensors").toString(),
                "tensor model.layers.0.self_attn.k_proj.weight has shape (32, 32) but the model expects (16, 32)");
    }

    @Test
    void unexpectedTensorIsRefusedNamingFileAndTensor() throws IOException {
        Path dir = rewriteWeights(Architecture.QWEN2,
                w -> w.put("model.layers.0.self_attn.o_proj.bias", manager.zeros(new Shape(64))));
        assertRefused(dir, dir.resolve("model.safetensors").toString(),
                "unexpected tensor model.layers.0.self_attn.o_proj.bias");
    }

    @Test
    void corruptHeaderIsRefusedWhenLoadingAFolder() throws IOException {
        Path dir = folder(Architecture.GPT2, c -> { });
        byte[] bytes = Files.readAllBytes(dir.resolve("model.safetensors"));
        bytes[9] = '#';  // inside the JSON header
        Files.write(dir.resolve("model.safetensors"), bytes);
        assertRefused(dir, dir.resolve("model.safetensors").toString(), "corrupt safetensors header");
    }

    private Path rewriteWeights(Architecture arch, Consumer<Map<String, NDArray>> edit) throws IOException {
        Path dir = folder(arch, c -> { });
        Map<String, NDArray> weights = readAll(dir);
        edit.accept(weights);
        Files.delete(dir.resolve("model.safetensors"));
        SafetensorsWriter.writeFolder(dir, weights, SafetensorsDtype.F32, 1);
        return dir;
    }
}
