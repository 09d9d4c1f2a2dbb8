package io.streamrlhf.models.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.safetensors.SafetensorsDtype;
import io.streamrlhf.models.hf.safetensors.SafetensorsWeights;
import io.streamrlhf.models.hf.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Hugging Face sequence-classification reward models, checked against the causal LMs whose logits HfForwardTest
 * verifies against PyTorch: a reward folder made from a causal-LM folder (the same backbone tensors, and
 * {@code score.weight} = row k of its output projection) must give, as the reward of a sequence, the causal LM's
 * logit for token k at the sequence's last token.
 */
class HfRewardModelTest {

    private static final double TOLERANCE = 1e-5;
    private static final int K = 7;
    private static final int[][] ROWS = {{5, 17, 3, 42, 8, 23, 11}, {9, 4, 30, 2}, {12, 6, 19, 33, 21}};

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    /**
     * Writes a reward folder from {@code causal}: its config with the sequence-classification class,
     * {@code num_labels} 1 and {@code pad}, its backbone tensors, and {@code score.weight} = row {@code k} of
     * {@code lm_head.weight} (of the token embedding when tied).
     */
    static Path rewardFrom(Path causal, int k, Integer pad, Path dir) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode config = (ObjectNode) mapper.readTree(causal.resolve(HfModelConfig.FILE).toFile());
        String arch = config.get("architectures").get(0).asText();
        config.putArray("architectures").add(arch.equals("GPT2LMHeadModel") ? "GPT2ForSequenceClassification"
                : arch.replace("ForCausalLM", "ForSequenceClassification"));
        config.put("num_labels", 1);
        if (pad != null) {
            config.put("pad_token_id", pad);
        }
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(HfModelConfig.FILE), mapper.writeValueAsString(config));
        try (NDManager m = ModelRuntime.init().newBaseManager()) {
            SafetensorsWeights weights = SafetensorsWeights.open(causal);
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            for (String name : weights.names()) {
                tensors.put(name, weights.load(m, name));
            }
            String head = tensors.containsKey("lm_head.weight") ? "lm_head.weight"
                    : tensors.containsKey("transformer.wte.weight") ? "transformer.wte.weight"
                    : "model.embed_tokens.weight";
            NDArray score = tensors.get(head).get(new NDIndex("{}:{}", k, k + 1));  // (1, D)
            tensors.remove("lm_head.weight");
            tensors.put(CausalLmBase.SCORE_WEIGHT, score);
            SafetensorsWriter.writeFolder(dir, tensors, SafetensorsDtype.F32, 1);
        }
        return dir;
    }

    /** The causal LM's logit for token k at the last position of {@code row}, run alone. */
    private static float causalLogit(HfCausalLm lm, int[] row) {
        try (NDManager step = lm.manager().newSubManager()) {
            NDArray logits = lm.logits(step.create(row, new Shape(1, row.length)));  // (1, T, V)
            return logits.getFloat(0, row.length - 1, K);
        }
    }

    private static float reward(HfRewardModel rm, int[] row) {
        try (NDManager step = rm.manager().newSubManager()) {
            NDArray r = rm.rewards(step.create(row, new Shape(1, row.length)));  // (1)
            assertThat(r.getShape()).isEqualTo(new Shape(1));
            return r.getFloat(0);
        }
    }

    @ParameterizedTest
    @EnumSource(TinyHfModels.Architecture.class)
    void rewardIsTheCausalLmsLogitForTokenKAtTheLastToken(TinyHfModels.Architecture arch) throws IOException {
        Path causal = TinyHfModels.write(tmp.resolve("causal"), arch, 2);
        Path rewardDir = rewardFrom(causal, K, null, tmp.resolve("reward"));
        try (HfCausalLm lm = HfCausalLm.load(causal); HfRewardModel rm = HfRewardModel.load(rewardDir)) {
            assertThat(rm.settings().padTokenId()).isNull();
            for (int[] row : ROWS) {
                assertThat((double) reward(rm, row)).isCloseTo(causalLogit(lm, row), within(TOLERANCE));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TinyHfModels.Architecture.class)
    void leftPaddedBatchEqualsTheRowsOneByOne(TinyHfModels.Architecture arch) throws IOException {
        int pad = 0;
        Path causal = TinyHfModels.write(tmp.resolve("causal"), arch, 3);
        Path rewardDir = rewardFrom(causal, K, pad, tmp.resolve("reward"));
        try (HfCausalLm lm = HfCausalLm.load(causal); HfRewardModel rm = HfRewardModel.load(rewardDir);
             NDManager step = rm.manager().newSubManager()) {
            int t = 7;
            int[] ids = new int[ROWS.length * t];
            int[] mask = new int[ROWS.length * t];
            for (int r = 0; r < ROWS.length; r++) {
                int offset = t - ROWS[r].length;
                for (int i = 0; i < ROWS[r].length; i++) {
                    ids[r * t + offset + i] = ROWS[r][i];
                    mask[r * t + offset + i] = 1;
                }
            }
            float[] batch = rm.rewards(step.create(ids, new Shape(ROWS.length, t)),
                    step.create(mask, new Shape(ROWS.length, t))).toFloatArray();
            assertThat(batch).hasSize(ROWS.length);
            for (int r = 0; r < ROWS.length; r++) {
                assertThat((double) batch[r]).as("row %d", r).isCloseTo(reward(rm, ROWS[r]), within(TOLERANCE))
                        .isCloseTo(causalLogit(lm, ROWS[r]), within(TOLERANCE));
            }
            // right padding: the reward is read at the last token that is not pad_token_id, as transformers does
            int[] right = {9, 4, 30, 2, pad, pad};
            float rightReward = rm.rewards(step.create(right, new Shape(1, right.length))).getFloat(0);
            assertThat((double) rightReward).isCloseTo(reward(rm, ROWS[1]), within(TOLERANCE));
        }
    }

    @Test
    void hiddenStatesAreWhatTheScoreHeadReads() throws IOException {
        Path dir = TinyHfModels.writeReward(tmp.resolve("rm"), TinyHfModels.Architecture.QWEN2, 5, null);
        try (HfRewardModel rm = HfRewardModel.load(dir); NDManager step = rm.manager().newSubManager()) {
            int[] row = ROWS[0];
            NDArray tokens = step.create(row, new Shape(1, row.length));
            NDArray hidden = rm.block().hiddenStates(new ai.djl.training.ParameterStore(rm.manager(), false), tokens,
                    null, false);  // (1, T, D)
            assertThat(hidden.getShape()).isEqualTo(new Shape(1, row.length, 64));
            NDArray score = rm.block().namedParameters().byName().get(CausalLmBase.SCORE_WEIGHT).getArray();
            float expected = hidden.get(0, row.length - 1).dot(score.get(0)).getFloat();
            assertThat((double) reward(rm, row)).isCloseTo(expected, within(TOLERANCE));
        }
    }

    @Test
    void tinyRewardFoldersAreDeterministicAndLoad() throws IOException {
        for (TinyHfModels.Architecture arch : TinyHfModels.Architecture.values()) {
            Path a = TinyHfModels.writeReward(tmp.resolve(arch + "-a"), arch, 9, 0);
            Path b = TinyHfModels.writeReward(tmp.resolve(arch + "-b"), arch, 9, 0);
            assertThat(Files.readAllBytes(a.resolve("model.safetensors")))
                    .isEqualTo(Files.readAllBytes(b.resolve("model.safetensors")));
            assertThat(Files.readString(a.resolve("config.json"))).isEqualTo(Files.readString(b.resolve(
                    "config.json")));
            assertThat(HfRewardModel.isRewardFolder(a)).isTrue();
            try (HfRewardModel rm = HfRewardModel.load(a)) {
                assertThat(rm.settings().architecture()).endsWith("ForSequenceClassification");
                assertThat(rm.settings().padTokenId()).isZero();
                assertThat(Float.isFinite(reward(rm, ROWS[0]))).isTrue();
            }
        }
        Path other = TinyHfModels.writeReward(tmp.resolve("other-seed"), TinyHfModels.Architecture.GPT2, 10, 0);
        try (HfRewardModel a = HfRewardModel.load(tmp.resolve("GPT2-a")); HfRewardModel b = HfRewardModel.load(other)) {
            assertThat(reward(a, ROWS[0])).isNotEqualTo(reward(b, ROWS[0]));
        }
    }

    @Test
    void refusesOtherLabelCountsMissingScoreAndAnLmHead() throws IOException {
        Path causal = TinyHfModels.write(tmp.resolve("causal"), TinyHfModels.Architecture.LLAMA, 2);

        Path two = rewardFrom(causal, K, null, tmp.resolve("two"));
        ObjectNode config = (ObjectNode) new ObjectMapper().readTree(two.resolve("config.json").toFile());
        config.put("num_labels", 2);
        Files.writeString(two.resolve("config.json"), config.toString());
        assertThatThrownBy(() -> HfRewardModel.load(two)).isInstanceOf(HfFormatException.class)
                .hasMessageContaining("config.json").hasMessageContaining("num_labels").hasMessageContaining("2");

        config.remove("num_labels");
        Files.writeString(two.resolve("config.json"), config.toString());
        assertThatThrownBy(() -> HfRewardModel.load(two)).isInstanceOf(HfFormatException.class)
                .hasMessageContaining("config.json").hasMessageContaining("num_labels is not set");

        Path noScore = rewardFrom(causal, K, null, tmp.resolve("no-score"));
        rewriteWeights(noScore, tensors -> tensors.remove(CausalLmBase.SCORE_WEIGHT));
        assertThatThrownBy(() -> HfRewardModel.load(noScore)).isInstanceOf(HfFormatException.class)
                .hasMessageContaining("model.safetensors").hasMessageContaining("missing tensor score.weight");

        Path withHead = rewardFrom(causal, K, null, tmp.resolve("with-head"));
        rewriteWeights(withHead, tensors -> tensors.put("lm_head.weight", tensors.get(CausalLmBase.SCORE_WEIGHT)
                .repeat(0, 80)));
        assertThatThrownBy(() -> HfRewardModel.load(withHead)).isInstanceOf(HfFormatException.class)
                .hasMessageContaining("model.safetensors").hasMessageContaining("unexpected tensor lm_head.weight");

        Path gpt2Causal = TinyHfModels.write(tmp.resolve("gpt2"), TinyHfModels.Architecture.GPT2, 1);
        Path gpt2Head = rewardFrom(gpt2Causal, K, null, tmp.resolve("gpt2-head"));
        rewriteWeights(gpt2Head, tensors -> tensors.put("lm_head.weight", tensors.get("transformer.wte.weight")));
        assertThatThrownBy(() -> HfRewardModel.load(gpt2Head)).isInstanceOf(HfFormatException.class)
                .as("a tied GPT-2 causal LM skips lm_head.weight; a reward model has none to skip")
                .hasMessageContaining("unexpected tensor lm_head.weight");

        assertThatThrownBy(() -> HfCausalLm.load(noScore)).isInstanceOf(HfFormatException.class)
                .hasMessageContaining("config.json").hasMessageContaining("is a reward model");
        assertThatThrownBy(() -> HfRewardModel.load(causal)).isInstanceOf(HfFormatException.class)
                .hasMessageContaining("config.json")
                .hasMessageContaining("architectures [LlamaForCausalLM] is not a supported reward model");
    }

    @Test
    void withoutPadTokenIdOnlyOneRowAtATime() throws IOException {
        Path dir = TinyHfModels.writeReward(tmp.resolve("rm"), TinyHfModels.Architecture.MISTRAL, 4, null);
        try (HfRewardModel rm = HfRewardModel.load(dir); NDManager step = rm.manager().newSubManager()) {
            NDArray two = step.create(new int[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3));
            assertThatThrownBy(() -> rm.rewards(two)).isInstanceOf(HfFormatException.class)
                    .hasMessageContaining("config.json").hasMessageContaining("pad_token_id is not set");
        }
    }

    private static void rewriteWeights(Path dir, java.util.function.Consumer<Map<String, NDArray>> edit)
            throws IOException {
        try (NDManager m = ModelRuntime.init().newBaseManager()) {
            SafetensorsWeights weights = SafetensorsWeights.open(dir);
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            for (String name : weights.names()) {
                tensors.put(name, weights.load(m, name));
            }
            edit.accept(tensors);
            Files.delete(dir.resolve("model.safetensors"));
            SafetensorsWriter.writeFolder(dir, tensors, SafetensorsDtype.F32, 1);
        }
    }
}
