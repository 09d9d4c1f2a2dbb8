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
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.engine.NoGrad;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import io.streamrlhf.models.reward.RewardOutput;
import io.streamrlhf.models.reward.RewardScores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link HfTrainableRewardModel}: from a reward folder it scores as {@link HfRewardModel} does (which HfRewardModelTest
 * checks against the causal LMs PyTorch verified); from a causal-LM folder it gets a small seeded score head and no
 * {@code lm_head}; once trained and saved, the folder loads with {@link HfRewardModel} and gives the in-memory
 * model's rewards.
 */
class HfTrainableRewardModelTest {

    private static final double TOLERANCE = 1e-5;
    private static final int PAD = 0;
    private static final int[][] ROWS = {{5, 17, 3, 22, 8, 23, 11}, {9, 4, 30, 2}, {12, 6, 19, 13, 21}};

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    private static Path causalWithTokenizer(Path dir, TinyHfModels.Architecture arch, long seed) throws Exception {
        TinyHfModels.write(dir, arch, seed);
        return TinyHfModels.writeTokenizer(dir, arch.config().vocabSize());
    }

    /** The rows right-padded with {@link #PAD} under a mask, as the trainer packs them, scored in one forward. */
    private static float[] batchScores(HfTrainableRewardModel rm) {
        try (NDManager step = rm.manager().newSubManager(); NoGrad ignored = NoGrad.enter()) {
            int t = 7;
            int[] ids = new int[ROWS.length * t];
            float[] mask = new float[ROWS.length * t];
            for (int r = 0; r < ROWS.length; r++) {
                for (int i = 0; i < ROWS[r].length; i++) {
                    ids[r * t + i] = ROWS[r][i];
                    mask[r * t + i] = 1;
                }
            }
            RewardOutput out = rm.forward(step.create(ids, new Shape(ROWS.length, t)),
                    step.create(mask, new Shape(ROWS.length, t)), false);
            assertThat(out.pooled().getShape()).isEqualTo(new Shape(ROWS.length, rm.config().dModel()));
            return out.scores().toFloatArray();
        }
    }

    private static float reward(HfRewardModel rm, int[] row) {
        try (NDManager step = rm.manager().newSubManager()) {
            return rm.rewards(step.create(row, new Shape(1, row.length))).getFloat(0);
        }
    }

    /** One gradient step on the summed scores, so that the saved weights are not the starting ones. */
    private static void trainOneStep(HfTrainableRewardModel rm) {
        rm.freeze(false);
        try (NDManager m = rm.manager().newSubManager()) {
            try (GradientCollector collector = ModelRuntime.init().newGradientCollector()) {
                NDArray tokens = m.create(ROWS[0], new Shape(1, ROWS[0].length));
                collector.backward(rm.forward(tokens, null, true).scores().sum());
            }
            try (NoGrad ignored = NoGrad.enter()) {
                for (Pair<String, Parameter> p : rm.block().getParameters()) {
                    NDArray w = p.getValue().getArray();
                    NDArray g = w.getGradient();
                    assertThat(g.abs().sum().getFloat()).as("gradient of %s", p.getKey()).isGreaterThan(0f);
                    w.subi(g.mul(0.05f));
                    g.subi(g);
                }
            }
        }
        rm.freeze(true);
    }

    @ParameterizedTest
    @EnumSource(TinyHfModels.Architecture.class)
    void aRewardFolderScoresRightPaddedBatchesAsHfRewardModelDoes(TinyHfModels.Architecture arch) throws Exception {
        Path dir = TinyHfModels.writeReward(tmp.resolve("rm"), arch, 4, PAD);
        try (HfTrainableRewardModel trainable = HfTrainableRewardModel.load(dir, 0, 99);
             HfRewardModel reference = HfRewardModel.load(dir)) {
            assertThat(trainable.newHead()).isFalse();
            assertThat(trainable.padTokenId()).isEqualTo(PAD);
            assertThat(trainable.namedArrays().get(CausalLmBase.SCORE_WEIGHT).toFloatArray()).containsExactly(
                    reference.block().namedParameters().byName().get(CausalLmBase.SCORE_WEIGHT).getArray()
                            .toFloatArray());
            float[] batch = batchScores(trainable);
            for (int r = 0; r < ROWS.length; r++) {
                assertThat((double) batch[r]).as("row %d", r).isCloseTo(reward(reference, ROWS[r]), within(TOLERANCE));
            }
            // the project's scoring path (RewardBatching) gives the same numbers
            RewardScores scores = trainable.score(List.of(ROWS[0], ROWS[1]), List.of(ROWS[2], new int[] {7, PAD}));
            assertThat((double) scores.scores()[0]).isCloseTo(reward(reference, concat(ROWS[0], ROWS[2])),
                    within(TOLERANCE));
            // a trailing padding id is not read, as transformers pools: the reward is that of the row without it
            assertThat((double) scores.scores()[1]).isCloseTo(reward(reference, concat(ROWS[1], new int[] {7})),
                    within(TOLERANCE));
        }
    }

    @Test
    void aCausalLmFolderGetsASmallSeededScoreHeadAndNoLmHead() throws Exception {
        Path dir = causalWithTokenizer(tmp.resolve("llama"), TinyHfModels.Architecture.LLAMA, 3);
        try (HfTrainableRewardModel a = HfTrainableRewardModel.load(dir, 0, 1);
             HfTrainableRewardModel again = HfTrainableRewardModel.load(dir, 0, 1);
             HfTrainableRewardModel b = HfTrainableRewardModel.load(dir, 0, 2);
             HfCausalLm lm = HfCausalLm.load(dir)) {
            assertThat(a.newHead()).isTrue();
            assertThat(a.rewardArchitecture()).isEqualTo("LlamaForSequenceClassification");
            assertThat(a.namedArrays()).doesNotContainKey("lm_head.weight").containsKey(CausalLmBase.SCORE_WEIGHT);
            float[] head = a.namedArrays().get(CausalLmBase.SCORE_WEIGHT).toFloatArray();
            assertThat(head).hasSize(32);
            double sumSquares = 0;
            for (float x : head) {
                sumSquares += x * x;
            }
            // N(0, 0.02²): the sample std of 32 draws is well within [0.01, 0.03]
            assertThat(Math.sqrt(sumSquares / head.length)).isBetween(0.01, 0.03);
            assertThat(again.namedArrays().get(CausalLmBase.SCORE_WEIGHT).toFloatArray()).containsExactly(head);
            assertThat(b.namedArrays().get(CausalLmBase.SCORE_WEIGHT).toFloatArray()).isNotEqualTo(head);
            // the backbone is the folder's: equal to the causal LM's embedding
            assertThat(a.namedArrays().get("model.embed_tokens.weight").toFloatArray()).containsExactly(
                    lm.block().namedParameters().byName().get("model.embed_tokens.weight").getArray().toFloatArray());
            // no pad_token_id in config.json: the tokenizer's padding token (<|endoftext|>, id 0)
            assertThat(a.padTokenId()).isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(TinyHfModels.Architecture.class)
    void theSavedFolderLoadsWithHfRewardModelAndGivesTheInMemoryRewards(TinyHfModels.Architecture arch)
            throws Exception {
        Path dir = causalWithTokenizer(tmp.resolve("causal"), arch, 5);
        Path out = tmp.resolve("out");
        float[] inMemory;
        try (HfTrainableRewardModel rm = HfTrainableRewardModel.load(dir, 0, 7)) {
            trainOneStep(rm);
            inMemory = batchScores(rm);
            rm.save(out);
        }
        JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertThat(config.get("architectures").get(0).asText()).endsWith("ForSequenceClassification");
        assertThat(config.get("num_labels").asInt()).isEqualTo(1);
        assertThat(config.get("pad_token_id").asInt()).isEqualTo(PAD);
        for (String name : List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json")) {
            assertThat(out.resolve(name)).hasSameBinaryContentAs(dir.resolve(name));
        }
        assertThat(HfRewardModel.isRewardFolder(out)).isTrue();
        try (HfRewardModel loaded = HfRewardModel.load(out); HfTokenizer tokenizer = HfTokenizer.load(out)) {
            assertThat(loaded.settings().architecture()).isEqualTo(config.get("architectures").get(0).asText());
            assertThat(tokenizer.chatTemplate().isModelTemplate()).isTrue();
            for (int r = 0; r < ROWS.length; r++) {
                assertThat((double) reward(loaded, ROWS[r])).as("row %d", r).isCloseTo(inMemory[r],
                        within(TOLERANCE));
            }
        }
        // and it trains on from the saved folder, head and all
        try (HfTrainableRewardModel again = HfTrainableRewardModel.load(out, 0, 123)) {
            assertThat(again.newHead()).isFalse();
            float[] reloaded = batchScores(again);
            for (int r = 0; r < ROWS.length; r++) {
                assertThat((double) reloaded[r]).isCloseTo(inMemory[r], within(TOLERANCE));
            }
        }
    }

    @Test
    void residualDropoutChangesOnlyTrainingForwardsAndZeroIsExact() throws Exception {
        Path dir = TinyHfModels.writeReward(tmp.resolve("rm"), TinyHfModels.Architecture.QWEN2, 6, PAD);
        try (HfTrainableRewardModel rm = HfTrainableRewardModel.load(dir, 0, 0);
             NDManager step = rm.manager().newSubManager()) {
            NDArray tokens = step.create(ROWS[0], new Shape(1, ROWS[0].length));
            float plain = rm.forward(tokens, null, false).scores().getFloat(0);
            assertThat(rm.forward(tokens, null, true).scores().getFloat(0)).isEqualTo(plain);
            rm.setResidualDropout(0.3f);
            assertThat(rm.residualDropout()).isEqualTo(0.3f);
            assertThat(rm.forward(tokens, null, false).scores().getFloat(0)).isEqualTo(plain);
            ModelRuntime.seed(11);
            float view1 = rm.forward(tokens, null, true).scores().getFloat(0);
            float view2 = rm.forward(tokens, null, true).scores().getFloat(0);
            assertThat(view1).isNotEqualTo(plain);
            assertThat(view2).isNotEqualTo(view1);
            rm.setResidualDropout(0f);
            assertThat(rm.forward(tokens, null, true).scores().getFloat(0)).isEqualTo(plain);
            assertThatThrownBy(() -> rm.setResidualDropout(1f)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("[0, 1)");
        }
    }

    @Test
    void refusesAFolderWithoutPaddingTokenOrTokenizerAndSavingOverItself() throws Exception {
        Path bare = TinyHfModels.write(tmp.resolve("bare"), TinyHfModels.Architecture.QWEN2, 1);
        assertThatThrownBy(() -> HfTrainableRewardModel.load(bare, 0, 0)).isInstanceOf(HfFormatException.class)
                .hasMessageContaining(bare.resolve("config.json").toString()).hasMessageContaining("pad_token_id");
        Path twoLabels = TinyHfModels.writeReward(tmp.resolve("two"), TinyHfModels.Architecture.QWEN2, 1, PAD);
        Path config = twoLabels.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"num_labels\" : 1", "\"num_labels\" : 2"));
        assertThatThrownBy(() -> HfTrainableRewardModel.load(twoLabels, 0, 0)).isInstanceOf(HfFormatException.class)
                .hasMessageContaining("num_labels");
        Path rm = TinyHfModels.writeReward(tmp.resolve("rm"), TinyHfModels.Architecture.QWEN2, 1, PAD);
        try (HfTrainableRewardModel model = HfTrainableRewardModel.load(rm, 0, 0)) {
            assertThatThrownBy(() -> model.save(rm)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("loaded from");
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
