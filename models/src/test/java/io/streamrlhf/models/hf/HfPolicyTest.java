package io.streamrlhf.models.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.util.Pair;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.engine.NoGrad;
import io.streamrlhf.models.hf.tokenizer.ChatMessage;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import io.streamrlhf.models.load.PolicyLoader;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.policy.PolicyOutput;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.SamplingParams;
import io.streamrlhf.models.sampling.TokenSampler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link HfPolicy}: a Hugging Face folder as a trainable policy gives the folder's logits and a zero value head,
 * survives a checkpoint round trip (bytes and directory) with its files, trains (gradients reach the LM and the
 * value head), hot-swaps another version in place and refuses one of another shape, its sampler's log-probs
 * are the training forward's at the sampling temperature, and a framed forward (the output projection over some
 * positions only) gives the full forward's logits, values and gradients there.
 */
class HfPolicyTest {

    private static final int[] IDS = {5, 17, 3, 42, 8, 23, 61, 9};

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    private Path folder(TinyHfModels.Architecture arch, long seed) throws Exception {
        Path dir = TinyHfModels.write(tmp.resolve(arch.name() + "-" + seed), arch, seed);
        TinyHfModels.writeTokenizer(dir, arch.config().vocabSize());
        return dir;
    }

    private static float[] logits(PolicyModel policy, int[] ids) {
        try (NDManager m = policy.manager().newSubManager()) {
            return policy.forward(m.create(ids, new Shape(1, ids.length)), null, false).logits().toFloatArray();
        }
    }

    private static float[] values(PolicyModel policy, int[] ids) {
        try (NDManager m = policy.manager().newSubManager()) {
            return policy.forward(m.create(ids, new Shape(1, ids.length)), null, false).values().toFloatArray();
        }
    }

    @ParameterizedTest
    @EnumSource(TinyHfModels.Architecture.class)
    void givesTheFoldersLogitsAndAZeroValueHead(TinyHfModels.Architecture arch) throws Exception {
        Path dir = folder(arch, 3);
        try (HfCausalLm lm = HfCausalLm.load(dir); HfPolicy policy = HfPolicy.load(dir, 0);
             NDManager m = lm.manager().newSubManager()) {
            float[] expected = lm.logits(m.create(IDS, new Shape(1, IDS.length))).toFloatArray();
            assertThat(logits(policy, IDS)).containsExactly(expected, within(1e-5f));
            assertThat(values(policy, IDS)).containsOnly(0f);
            assertThat(policy.config().vocabSize()).isEqualTo(arch.config().vocabSize());
            assertThat(policy.architecture()).isEqualTo(HfPolicy.ARCHITECTURE);
        }
    }

    @ParameterizedTest
    @EnumSource(TinyHfModels.Architecture.class)
    void aFramedForwardGivesTheFullForwardsLogitsAndGradientsOverItsPositions(TinyHfModels.Architecture arch)
            throws Exception {
        Path dir = folder(arch, 8);
        int from = 3;
        int f = IDS.length - 1 - from;
        try (HfPolicy policy = HfPolicy.load(dir, 0); NDManager m = policy.manager().newSubManager()) {
            // two rows, the second left-padded by two, so that position ids and the key bias take part
            NDArray tokens = m.create(new int[][] {IDS, {0, 0, 5, 17, 3, 42, 8, 23}});  // (2, T)
            NDArray mask = m.create(new int[][] {{1, 1, 1, 1, 1, 1, 1, 1}, {0, 0, 1, 1, 1, 1, 1, 1}});  // (2, T)
            float[][] full = framedLossGradients(policy, m, tokens, mask, false, from);
            float[][] framed = framedLossGradients(policy, m, tokens, mask, true, from);
            assertThat(framed[0]).hasSize(2 * f * arch.config().vocabSize());
            assertThat(framed[0]).containsExactly(full[0], within(1e-5f));  // logits
            assertThat(framed[1]).containsExactly(full[1], within(1e-6f));  // values (B, T)
            for (int i = 2; i < full.length; i++) {
                assertThat(framed[i]).as("gradient %d", i - 2).containsExactly(full[i], within(1e-5f));
            }
            assertThatThrownBy(() -> policy.forwardFrame(tokens, mask, false, IDS.length))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("frame start 8");
        }
    }

    /**
     * The logits over positions [from, T - 1), the values and every parameter's gradient of a loss over those logits
     * and the values, through {@link PolicyModel#forwardFrame} or through a full forward sliced afterwards.
     */
    private static float[][] framedLossGradients(HfPolicy policy, NDManager m, NDArray tokens, NDArray mask,
                                                 boolean framed, int from) {
        List<Pair<String, Parameter>> params = policy.block().getParameters().stream().toList();
        float[][] out = new float[2 + params.size()][];
        try (GradientCollector collector = ModelRuntime.init().newGradientCollector()) {
            PolicyOutput o = framed ? policy.forwardFrame(tokens, mask, true, from)
                    : policy.forward(tokens, mask, true);
            NDArray logits = framed ? o.logits() : PolicyModel.frame(o.logits(), from);  // (B, F, V)
            out[0] = logits.toFloatArray();
            out[1] = o.values().toFloatArray();
            collector.backward(logits.logSoftmax(-1).get(":, :, 3").mean().add(o.values().square().mean()));
        }
        for (int i = 0; i < params.size(); i++) {
            NDArray g = params.get(i).getValue().getArray().getGradient();
            out[2 + i] = g.toFloatArray();
            g.subi(g);
        }
        return out;
    }

    @Test
    void aCheckpointCarriesWeightsValueHeadAndFilesThroughBytesAndADirectory() throws Exception {
        Path dir = folder(TinyHfModels.Architecture.QWEN2, 4);
        try (HfPolicy policy = HfPolicy.load(dir, 48)) {
            trainOneStep(policy);
            float[] logits = logits(policy, IDS);
            float[] values = values(policy, IDS);
            assertThat(values).doesNotContain(0f);
            Checkpoint checkpoint = policy.toCheckpoint(Map.of("version", "7"), new byte[] {1, 2, 3});
            assertThat(checkpoint.modelFiles()).containsKeys("config.json", "tokenizer.json", "tokenizer_config.json",
                    "generation_config.json");
            assertThat(checkpoint.modelFiles().get("tokenizer.json"))
                    .isEqualTo(Files.readAllBytes(dir.resolve("tokenizer.json")));
            SafetensorsWeightsNames names = SafetensorsWeightsNames.of(checkpoint);
            assertThat(names.names()).contains("model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.bias",
                    HfPolicy.VALUE_WEIGHT, HfPolicy.VALUE_BIAS);

            Checkpoint viaBytes = CheckpointStore.fromBytes(CheckpointStore.toBytes(checkpoint));
            Checkpoint viaDir = CheckpointStore.load(CheckpointStore.save(checkpoint, tmp.resolve("ckpt")));
            assertThat(Files.isRegularFile(tmp.resolve("ckpt/model/tokenizer.json"))).isTrue();
            for (Checkpoint c : List.of(viaBytes, viaDir)) {
                assertThat(c.weightsId()).isEqualTo(checkpoint.weightsId());
                assertThat(c.metadata()).containsEntry("version", "7").containsEntry(HfPolicy.CONTEXT_METADATA, "48");
                assertThat(c.modelFiles().keySet()).isEqualTo(checkpoint.modelFiles().keySet());
                try (PolicyModel back = PolicyLoader.fromCheckpoint(c)) {
                    assertThat(back).isInstanceOf(HfPolicy.class);
                    assertThat(back.config().contextLength()).isEqualTo(48);
                    assertThat(logits(back, IDS)).containsExactly(logits, within(0f));
                    assertThat(values(back, IDS)).containsExactly(values, within(0f));
                }
            }
        }
    }

    @Test
    void aTamperedModelFileIsRefusedByTheManifest() throws Exception {
        Path dir = folder(TinyHfModels.Architecture.GPT2, 5);
        try (HfPolicy policy = HfPolicy.load(dir, 0)) {
            Path saved = CheckpointStore.save(policy.toCheckpoint(Map.of(), null), tmp.resolve("ckpt"));
            Files.writeString(saved.resolve("model/tokenizer.json"), "{}");
            assertThatThrownBy(() -> CheckpointStore.load(saved)).isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("model/tokenizer.json").hasMessageContaining("sha256");
        }
    }

    @Test
    void aTokenizerBeyondTheEmbeddingIsRefusedNamingBothFiles() throws Exception {
        Path dir = TinyHfModels.write(tmp.resolve("narrow"), TinyHfModels.Architecture.MISTRAL, 1);  // vocab 64
        TinyHfModels.writeTokenizer(dir, 128);
        assertThatThrownBy(() -> HfPolicy.load(dir, 0)).isInstanceOf(HfFormatException.class)
                .hasMessageContaining(dir.resolve("tokenizer.json").toString())
                .hasMessageContaining("beyond the embedding: config.json's vocab_size is 64");
    }

    @Test
    void trainingReachesEveryParameterAndTheReferenceStaysFrozen() throws Exception {
        Path dir = folder(TinyHfModels.Architecture.LLAMA, 6);
        try (HfPolicy policy = HfPolicy.load(dir, 0); HfPolicy reference = policy.referenceCopy()) {
            float[] before = logits(reference, IDS);
            trainOneStep(policy);
            assertThat(logits(policy, IDS)).isNotEqualTo(before);
            assertThat(logits(reference, IDS)).containsExactly(before, within(0f));
            for (Pair<String, Parameter> p : reference.block().getParameters()) {
                assertThat(p.getValue().getArray().hasGradient()).as(p.getKey()).isFalse();
            }
        }
    }

    @Test
    void aHotSwapCopiesAnotherVersionInPlaceAndRefusesAnotherShape() throws Exception {
        Path dir = folder(TinyHfModels.Architecture.QWEN2, 7);
        try (HfPolicy trained = HfPolicy.load(dir, 0); HfPolicy running = HfPolicy.load(dir, 0)) {
            trainOneStep(trained);
            NDArray embedding = running.namedArrays(false).get("model.embed_tokens.weight");
            running.loadWeights(trained.toCheckpoint(Map.of(), null));
            assertThat(running.namedArrays(false).get("model.embed_tokens.weight")).isSameAs(embedding);
            assertThat(logits(running, IDS)).containsExactly(logits(trained, IDS), within(0f));
            assertThat(values(running, IDS)).containsExactly(values(trained, IDS), within(0f));

            Path other = folder(TinyHfModels.Architecture.LLAMA, 7);
            float[] kept = logits(running, IDS);
            try (HfPolicy llama = HfPolicy.load(other, 0)) {
                assertThatThrownBy(() -> running.loadWeights(llama.toCheckpoint(Map.of(), null)))
                        .isInstanceOf(CheckpointException.class).hasMessageContaining("config.json");
            }
            assertThat(logits(running, IDS)).containsExactly(kept, within(0f));
        }
    }

    @ParameterizedTest
    @ValueSource(doubles = {1.0, 0.7})
    void samplerLogProbsEqualTheTrainingForwardAtTheSamplingTemperature(double temperature) throws Exception {
        Path dir = folder(TinyHfModels.Architecture.QWEN2, 8);
        try (HfPolicy policy = HfPolicy.load(dir, 0)) {
            trainOneStep(policy);
            TokenSampler sampler = PolicyLoader.sampler(policy);
            assertThat(sampler).isInstanceOf(HfSampler.class);
            int[][] prompts = {{5, 17, 3, 42, 8}, {9, 1}, {7, 7, 19}};
            SampleResult result = sampler.sample(prompts, new SamplingParams(temperature, 0, 1.0, 6, -1, 0, 11),
                    new int[0]);
            int v = policy.config().vocabSize();
            for (int r = 0; r < prompts.length; r++) {
                int[] seq = result.sequence(r);
                float[] logits = logits(policy, seq);
                for (int s = 0; s < result.length(r); s++) {
                    int at = prompts[r].length - 1 + s;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int k = 0; k < v; k++) {
                        max = Math.max(max, logits[at * v + k] / temperature);
                    }
                    double sum = 0;
                    for (int k = 0; k < v; k++) {
                        sum += Math.exp(logits[at * v + k] / temperature - max);
                    }
                    double expected = logits[at * v + seq[at + 1]] / temperature - max - Math.log(sum);
                    assertThat((double) result.logProbs()[r][s]).as("row %d step %d", r, s)
                            .isCloseTo(expected, within(1e-4));
                }
            }
        }
    }

    @Test
    void theTinyTokenizerRoundTripsTextAndRendersChatMl() throws Exception {
        Path dir = folder(TinyHfModels.Architecture.QWEN2, 9);
        try (HfTokenizer tokenizer = HfTokenizer.load(dir)) {
            String text = "Name three colours, please! (42)";
            int[] ids = tokenizer.encode(text);
            assertThat(ids).hasSize(text.length());
            assertThat(tokenizer.decode(ids)).isEqualTo(text);
            assertThat(tokenizer.eosId()).isEqualTo(2);
            assertThat(tokenizer.stopIds()).contains(0, 2);
            int[] chat = tokenizer.encodeChat(List.of(new ChatMessage("user", "hi")), true);
            assertThat(tokenizer.decode(chat, false)).isEqualTo("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
            for (int id : chat) {
                assertThat(id).isLessThan(TinyHfModels.Architecture.QWEN2.config().vocabSize());
            }
        }
    }

    /** One optimiser-free step: every parameter moves against the gradient of a loss over logits and values. */
    static void trainOneStep(PolicyModel policy) {
        try (NDManager m = policy.manager().newSubManager()) {
            NDArray tokens = m.create(IDS, new Shape(1, IDS.length));
            try (GradientCollector collector = ModelRuntime.init().newGradientCollector()) {
                PolicyOutput out = policy.forward(tokens, null, true);
                NDArray loss = out.logits().logSoftmax(-1).get(":, :, 3").mean()
                        .add(out.values().sub(1f).square().mean());
                collector.backward(loss);
            }
            try (NoGrad ignored = NoGrad.enter()) {
                for (Pair<String, Parameter> p : policy.block().getParameters()) {
                    NDArray w = p.getValue().getArray();
                    NDArray g = w.getGradient();
                    assertThat(g.abs().sum().getFloat()).as("gradient of %s", p.getKey()).isGreaterThan(0f);
                    w.subi(g.mul(0.05f));
                    g.subi(g);
                }
            }
        }
    }

    /** The tensor names of a checkpoint's safetensors weights. */
    private record SafetensorsWeightsNames(List<String> names) {
        static SafetensorsWeightsNames of(Checkpoint c) {
            return new SafetensorsWeightsNames(List.copyOf(io.streamrlhf.models.hf.safetensors.SafetensorsFile
                    .fromBytes(Path.of("c"), c.weights()).tensors().keySet()));
        }
    }
}
