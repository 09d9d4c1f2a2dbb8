package io.streamrlhf.models.load;

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
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.checkpoint.ModelKind;
import io.streamrlhf.models.critic.TransformerValueModel;
import io.streamrlhf.models.critic.ValueModel;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.engine.NoGrad;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.hf.HfRewardModel;
import io.streamrlhf.models.hf.HfValueModel;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link CriticLoader}: a critic initialised from a reward model (ours or a Hugging Face folder) starts at the
 * reward model's reward at every sequence's last token, trains, survives its checkpoint, and is refused, with a
 * message naming the source and the mismatch, where it would not share the policy's tokenization.
 */
class CriticLoaderTest {

    private static final TransformerConfig SHAPE = new TransformerConfig(16, 24, 16, 1, 2);
    /** Two right-padded rows (pad id 0, which no real token uses) and their attention mask. */
    private static final int[] TOKENS = {5, 9, 3, 12, 7, 2, 11, 4, 0, 0, 0, 0};
    private static final float[] MASK = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0};
    private static final int[] LAST = {5, 1};

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    @Test
    void aTransformerCriticStartsAtTheRewardModelsRewardAtTheLastToken() {
        Path rmDir = tmp.resolve("rm");
        try (TransformerRewardModel rm = TransformerRewardModel.create(SHAPE, 3);
             TransformerPolicy policy = TransformerPolicy.create(SHAPE, 4)) {
            CheckpointStore.save(rm.toCheckpoint(Map.of(), null), rmDir);
            try (ValueModel critic = CriticLoader.fromRewardModel(rmDir, policy);
                 NDManager m = rm.manager().newSubManager()) {
                assertThat(critic).isInstanceOf(TransformerValueModel.class);
                NDArray tokens = m.create(TOKENS, new Shape(2, 6));
                NDArray mask = m.create(MASK, new Shape(2, 6));
                float[] rewards = rm.forward(tokens, mask, false).scores().toFloatArray();
                float[] values = critic.values(tokens, mask, false).toFloatArray();  // (2, 6)
                for (int row = 0; row < 2; row++) {
                    assertThat(values[row * 6 + LAST[row]]).as("row %d", row).isCloseTo(rewards[row], within(1e-5f));
                }
                // other positions read the head at a prefix: not the reward
                assertThat(values[0]).isNotCloseTo(rewards[0], within(1e-4f));
                Checkpoint saved = critic.toCheckpoint(Map.of("version", "1"), new byte[] {7});
                assertThat(saved.kind()).isEqualTo(ModelKind.REWARD_MODEL);
                assertThat(saved.metadata()).containsEntry(TransformerValueModel.ROLE_METADATA,
                        TransformerValueModel.ROLE);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = TinyHfModels.Architecture.class, names = {"GPT2", "QWEN2"})
    void aHuggingFaceCriticStartsAtTheRewardFoldersRewardTrainsAndRoundTrips(TinyHfModels.Architecture arch)
            throws Exception {
        Path rmDir = TinyHfModels.writeReward(tmp.resolve("rm"), arch, 5, 0);
        TinyHfModels.writeTokenizer(rmDir, arch.config().vocabSize());
        Path policyDir = TinyHfModels.write(tmp.resolve("policy"), arch, 6);
        TinyHfModels.writeTokenizer(policyDir, arch.config().vocabSize());
        try (HfPolicy policy = HfPolicy.load(policyDir, 0);
             HfRewardModel rm = HfRewardModel.load(rmDir);
             ValueModel critic = CriticLoader.fromRewardModel(rmDir, policy);
             NDManager m = rm.manager().newSubManager()) {
            assertThat(critic).isInstanceOf(HfValueModel.class);
            assertThat(critic.config().vocabSize()).isEqualTo(policy.config().vocabSize());
            NDArray tokens = m.create(TOKENS, new Shape(2, 6));
            NDArray mask = m.create(MASK, new Shape(2, 6));
            float[] rewards = rm.rewards(tokens, mask).toFloatArray();
            float[] values = critic.values(tokens, mask, false).toFloatArray();  // (2, 6)
            for (int row = 0; row < 2; row++) {
                assertThat(values[row * 6 + LAST[row]]).as("row %d", row).isCloseTo(rewards[row], within(1e-5f));
            }

            trainOneStep(critic, m);
            float[] trained = critic.values(tokens, mask, false).toFloatArray();
            assertThat(trained[LAST[0]]).isNotCloseTo(values[LAST[0]], within(1e-6f));
            Checkpoint saved = CheckpointStore.load(CheckpointStore.save(critic.toCheckpoint(Map.of(), new byte[] {3}),
                    tmp.resolve("critic")));
            assertThat(saved.modelFiles()).containsKeys("config.json", "tokenizer.json");
            assertThat(saved.optimizerState()).containsExactly(3);
            try (ValueModel back = CriticLoader.fromCheckpoint(saved, policy)) {
                assertThat(back.values(tokens, mask, false).toFloatArray()).containsExactly(trained, within(0f));
            }
        }
    }

    /** One plain gradient step pulling every value towards 1; every parameter must get a gradient. */
    private static void trainOneStep(ValueModel critic, NDManager m) {
        NDArray tokens = m.create(TOKENS, new Shape(2, 6));
        try (GradientCollector collector = ModelRuntime.init().newGradientCollector()) {
            collector.backward(critic.values(tokens, null, true).sub(1f).square().mean());
        }
        try (NoGrad ignored = NoGrad.enter()) {
            for (Pair<String, Parameter> p : critic.block().getParameters()) {
                NDArray w = p.getValue().getArray();
                NDArray g = w.getGradient();
                assertThat(g.abs().sum().getFloat()).as("gradient of %s", p.getKey()).isGreaterThan(0f);
                w.subi(g.mul(0.05f));
                g.subi(g);
            }
        }
    }

    @Test
    void aRewardModelOfAnotherTokenizationIsRefusedNamingTheMismatch() throws Exception {
        Path qwenPolicy = TinyHfModels.write(tmp.resolve("qwen-policy"), TinyHfModels.Architecture.QWEN2, 1);
        TinyHfModels.writeTokenizer(qwenPolicy, 128);
        Path llamaRm = TinyHfModels.writeReward(tmp.resolve("llama-rm"), TinyHfModels.Architecture.LLAMA, 2, 0);
        // same architecture and size, but a tokenizer whose vocabulary maps the ids to other characters
        Path otherTokenizerRm = TinyHfModels.writeReward(tmp.resolve("qwen-rm"), TinyHfModels.Architecture.QWEN2, 3,
                0);
        TinyHfModels.writeTokenizer(otherTokenizerRm, 60);
        Path transformerRm = tmp.resolve("transformer-rm");
        Path widerRm = tmp.resolve("wider-rm");
        Path policyCheckpoint = tmp.resolve("policy-checkpoint");
        try (HfPolicy hf = HfPolicy.load(qwenPolicy, 0);
             TransformerPolicy ours = TransformerPolicy.create(SHAPE, 4);
             TransformerRewardModel rm = TransformerRewardModel.create(SHAPE, 5);
             TransformerRewardModel wider = TransformerRewardModel.create(SHAPE.withVocabSize(20), 6)) {
            CheckpointStore.save(rm.toCheckpoint(Map.of(), null), transformerRm);
            CheckpointStore.save(wider.toCheckpoint(Map.of(), null), widerRm);
            CheckpointStore.save(ours.toCheckpoint(Map.of(), null), policyCheckpoint);

            assertThatThrownBy(() -> CriticLoader.fromRewardModel(llamaRm, hf))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(llamaRm.toString())
                    .hasMessageContaining("vocabulary of 80 ids but the policy has 128");
            assertThatThrownBy(() -> CriticLoader.fromRewardModel(otherTokenizerRm, hf))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tokenizer.json differs")
                    .hasMessageContaining("'model'");
            assertThatThrownBy(() -> CriticLoader.fromRewardModel(llamaRm, ours))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Hugging Face reward model")
                    .hasMessageContaining("'transformer' policy").hasMessageContaining("tokenization");
            assertThatThrownBy(() -> CriticLoader.fromRewardModel(transformerRm, hf))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'hf' policy");
            assertThatThrownBy(() -> CriticLoader.fromRewardModel(widerRm, ours))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("vocabulary of 20 ids but the policy has 16");
            assertThatThrownBy(() -> CriticLoader.fromRewardModel(qwenPolicy, hf))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("names a causal LM");
            assertThatThrownBy(() -> CriticLoader.fromRewardModel(policyCheckpoint, ours))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds a POLICY");
            assertThatThrownBy(() -> CriticLoader.fromRewardModel(tmp.resolve("absent"), ours))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not a directory");
        }
    }
}
