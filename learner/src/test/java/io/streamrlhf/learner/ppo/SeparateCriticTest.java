package io.streamrlhf.learner.ppo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import io.streamrlhf.learner.checkpoint.LearnerCheckpoint;
import io.streamrlhf.learner.checkpoint.LearnerCheckpointStore;
import io.streamrlhf.learner.checkpoint.LedgerEntry;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.critic.TransformerValueModel;
import io.streamrlhf.models.critic.ValueModel;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.models.load.CriticLoader;
import io.streamrlhf.models.load.PolicyLoader;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.SamplingParams;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PpoUpdate} with {@code ppo.critic=separate} on tiny real models: the critic starts at the reward model's
 * reward, step 3's values are the critic's, an update trains the critic (its own AdamW and learning rate) and the
 * policy but not the policy's value head, the critic and its optimiser survive a learner checkpoint, and mismatches
 * are refused.
 */
class SeparateCriticTest {

    private static final TransformerConfig SHAPE = new TransformerConfig(16, 24, 16, 1, 2);
    private static final long VERSION = 5;

    @TempDir
    Path tmp;

    private TransformerPolicy policy;
    private TransformerPolicy reference;
    private TransformerRewardModel rm;
    private ValueModel critic;

    @BeforeEach
    void create() {
        ModelRuntime.init(1);
        policy = TransformerPolicy.create(SHAPE, 7);
        reference = policy.referenceCopy();
        rm = TransformerRewardModel.create(SHAPE, 11);
        critic = CriticLoader.fromCheckpoint(rm.toCheckpoint(Map.of(), null), policy);
    }

    @AfterEach
    void close() {
        critic.close();
        rm.close();
        policy.close();
        reference.close();
    }

    /** Samples from {@code sampler}'s policy, scored at random, groups of {@code group} per prompt. */
    private static List<RolloutSample> onPolicySamples(PolicyModel from, int vocab, int prompts, int group, long seed) {
        Random random = new Random(seed);
        int[][] promptTokens = new int[prompts * group][];
        for (int i = 0; i < prompts; i++) {
            int[] p = new int[2 + random.nextInt(3)];
            for (int j = 0; j < p.length; j++) {
                p[j] = 4 + random.nextInt(vocab - 4);
            }
            for (int g = 0; g < group; g++) {
                promptTokens[i * group + g] = p;
            }
        }
        SampleResult r = PolicyLoader.sampler(from).sample(promptTokens, SamplingParams.of(8, 3, 0, seed), new int[0]);
        List<RolloutSample> out = new ArrayList<>();
        for (int i = 0; i < r.batchSize(); i++) {
            out.add(new RolloutSample("g" + seed + "-" + i, "p" + seed + "-" + i / group, group, i % group,
                    promptTokens[i], r.tokens()[i], r.logProbs()[i], VERSION, random.nextGaussian(), 0.1));
        }
        return out;
    }

    private List<RolloutSample> samples(long seed) {
        return onPolicySamples(policy, SHAPE.vocabSize(), 8, 2, seed);
    }

    private static PpoConfig config(Map<String, Object> overrides) {
        Map<String, Object> all = new HashMap<>(Map.of(PpoConfig.LEARNING_RATE, 1e-3, PpoConfig.WARMUP_STEPS, 0,
                PpoConfig.MINIBATCH_SIZE, 16, PpoConfig.EPOCHS, 2, PpoConfig.TARGET_KL, 0.0,
                PpoConfig.CRITIC, "separate"));
        all.putAll(overrides);
        return new PpoConfig(all);
    }

    private static Map<String, float[]> weights(Block block) {
        Map<String, float[]> out = new HashMap<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            out.put(p.getKey(), p.getValue().getArray().toFloatArray());
        }
        return out;
    }

    private static List<String> moved(Map<String, float[]> before, Block block) {
        Map<String, float[]> after = weights(block);
        return before.keySet().stream().filter(n -> !Arrays.equals(before.get(n), after.get(n))).sorted().toList();
    }

    private static boolean isValueHead(String name) {
        return name.contains("value") || name.startsWith("v_head");
    }

    @Test
    void theCriticStartsAtTheRewardModelsRewardAndStep3ReadsIt() {
        List<RolloutSample> samples = samples(1);
        Rollout r = new PpoUpdate(config(Map.of()), policy, reference, null, critic).prepare(samples, VERSION);
        Rollout shared = new PpoUpdate(config(Map.of(PpoConfig.CRITIC, "shared")), policy, reference, null)
                .prepare(samples, VERSION);
        try (NDManager m = rm.manager().newSubManager()) {
            // the critic's value at a whole sequence's last token is the reward model's reward for it
            float[] values = critic.values(r.inputs(m, identity(r.rows)).tokens(), r.inputs(m, identity(r.rows))
                    .attention(), false).toFloatArray();  // (B, T)
            for (int i = 0; i < r.rows; i++) {
                int[] sequence = sequence(samples.get(i));
                assertThat(values[i * r.t + sequence.length - 1]).as("row %d", i)
                        .isCloseTo(reward(m, sequence), within(1e-5f));
            }
            // step 3's value at each frame entry is the reward of the prefix up to it
            for (int i = 0; i < 3; i++) {
                int[] sequence = sequence(samples.get(i));
                for (int j = 0; j < r.rowLength[i]; j++) {
                    int position = r.rowStart[i] + j;
                    // frame entry k is the value at token position frameStart + k
                    float expected = reward(m, Arrays.copyOf(sequence, r.frameStart + position + 1));
                    assertThat(r.oldValues[i * r.f + position]).as("row %d position %d", i, position)
                            .isCloseTo(expected, within(1e-5f));
                    assertThat(shared.oldValues[i * r.f + position]).isNotCloseTo(expected, within(1e-6f));
                }
            }
        }
    }

    private float reward(NDManager m, int[] sequence) {
        return rm.forward(m.create(sequence, new Shape(1, sequence.length)), null, false).scores().getFloat(0);
    }

    private static int[] sequence(RolloutSample s) {
        int[] out = Arrays.copyOf(s.promptTokens(), s.promptTokens().length + s.responseTokens().length);
        System.arraycopy(s.responseTokens(), 0, out, s.promptTokens().length, s.responseTokens().length);
        return out;
    }

    private static int[] identity(int n) {
        int[] a = new int[n];
        Arrays.setAll(a, i -> i);
        return a;
    }

    @Test
    void anUpdateTrainsTheCriticAndThePolicyButNotThePolicysValueHead() {
        Map<String, float[]> policyBefore = weights(policy.block());
        Map<String, float[]> criticBefore = weights(critic.block());
        PpoStats stats = new PpoUpdate(config(Map.of()), policy, reference, null, critic).update(samples(2), VERSION);
        assertThat(moved(criticBefore, critic.block())).containsExactlyInAnyOrderElementsOf(criticBefore.keySet());
        List<String> policyMoved = moved(policyBefore, policy.block());
        for (String name : policyBefore.keySet()) {
            assertThat(policyMoved.contains(name)).as(name).isEqualTo(!isValueHead(name));
        }
        for (Pair<String, Parameter> p : policy.block().getParameters()) {
            assertThat(p.getValue().requiresGradient()).as(p.getKey()).isEqualTo(!isValueHead(p.getKey()));
        }
        assertThat(stats.get("charts/critic_grad_norm")).isPositive();
        assertThat(stats.get("charts/critic_learning_rate")).isEqualTo(1e-3);
        assertThat(stats.get("charts/grad_norm")).isPositive();
        assertThat(stats.get("losses/value_loss")).isPositive();
        assertThat(stats.get("ppo/first_ratio_max_dev")).isLessThan(1e-5);
    }

    @Test
    void theCriticHasItsOwnLearningRateAndWarmsUpAlone() {
        assertThat(config(Map.of()).criticLearningRate()).isEqualTo(1e-3);
        Map<String, float[]> policyBefore = weights(policy.block());
        Map<String, float[]> criticBefore = weights(critic.block());
        PpoStats still = new PpoUpdate(config(Map.of(PpoConfig.CRITIC_LEARNING_RATE, 0.0)), policy, reference, null,
                critic).update(samples(3), VERSION);
        assertThat(still.get("charts/critic_learning_rate")).isEqualTo(0.0);
        assertThat(moved(criticBefore, critic.block())).isEmpty();
        assertThat(moved(policyBefore, policy.block())).isNotEmpty();

        // critic warm-up: the separate critic moves, the policy takes no step at all
        policyBefore = weights(policy.block());
        PpoStats warm = new PpoUpdate(config(Map.of(PpoConfig.CRITIC_WARMUP_UPDATES, 1)), policy, reference, null,
                critic).update(samples(4), VERSION);
        assertThat(warm.get("ppo/actor_moves")).isEqualTo(0.0);
        assertThat(warm.get("charts/grad_norm")).isEqualTo(0.0);
        assertThat(moved(policyBefore, policy.block())).isEmpty();
        assertThat(moved(criticBefore, critic.block())).isNotEmpty();
    }

    @Test
    void aLearnerCheckpointRestoresTheCriticAndItsOptimiserAndTheRestoredLearnerContinuesIdentically() {
        PpoConfig cfg = config(Map.of(PpoConfig.EPOCHS, 1, PpoConfig.MINIBATCH_SIZE, 32));
        PpoUpdate ppo = new PpoUpdate(cfg, policy, reference, null, critic);
        ppo.update(samples(5), VERSION);
        PpoUpdate.State state = ppo.state();
        assertThat(state.criticOptimizer()).isNotNull();

        LearnerCheckpointStore store = new LearnerCheckpointStore(tmp.resolve("learner"));
        Map<String, String> meta = Map.of("version", "1");
        store.save(new LearnerCheckpoint(1, 0, state.updates(), state.optimizerSteps(), state.scoreMoments(),
                policy.toCheckpoint(meta, state.optimizer()), Map.of("scored-0", 16L),
                store.appendLedger(List.of(), List.of(new LedgerEntry("g", 1, LedgerEntry.Outcome.TRAINED,
                        "scored-0", 15))), Map.of(), critic.toCheckpoint(meta, state.criticOptimizer())));
        LearnerCheckpoint back = store.loadNewest().orElseThrow();
        assertThat(back.critic()).isNotNull();
        assertThat(back.critic().optimizerState()).isEqualTo(state.criticOptimizer());

        List<RolloutSample> next = samples(6);
        try (PolicyModel twin = PolicyLoader.fromCheckpoint(back.policy());
             ValueModel twinCritic = CriticLoader.fromCheckpoint(back.critic(), twin)) {
            assertThat(twinCritic).isInstanceOf(TransformerValueModel.class);
            assertSameWeights(twinCritic.block(), weights(critic.block()), 0f);
            PpoUpdate restored = new PpoUpdate(cfg, twin, reference, null, twinCritic);
            restored.restore(new PpoUpdate.State(back.updates(), back.optimizerSteps(), back.scoreMoments(),
                    back.policy().optimizerState(), back.critic().optimizerState()));
            assertThat(restored.state().criticOptimizer()).isEqualTo(state.criticOptimizer());
            PpoStats a = ppo.update(next, VERSION);
            PpoStats b = restored.update(next, VERSION);
            for (String key : List.of("losses/loss", "losses/value_loss", "losses/explained_variance",
                    "charts/critic_grad_norm")) {
                assertThat(b.get(key)).as(key).isCloseTo(a.get(key), within(1e-5));
            }
            assertSameWeights(twinCritic.block(), weights(critic.block()), 1e-5f);
            assertSameWeights(twin.block(), weights(policy.block()), 1e-5f);
        }
    }

    @Test
    void aCheckpointWithoutACriticIsWrittenAsBeforeAndLoadsWithoutOne() {
        LearnerCheckpointStore store = new LearnerCheckpointStore(tmp.resolve("shared"));
        store.save(new LearnerCheckpoint(1, 0, 1, 1, new double[] {1, 0, 0}, policy.toCheckpoint(Map.of(), null),
                Map.of(), List.of(), Map.of()));
        assertThat(store.loadNewest().orElseThrow().critic()).isNull();
        assertThat(store.dir(1).resolve("critic")).doesNotExist();
    }

    private static void assertSameWeights(Block block, Map<String, float[]> expected, float tolerance) {
        for (Pair<String, Parameter> p : block.getParameters()) {
            assertThat(p.getValue().getArray().toFloatArray()).as(p.getKey())
                    .containsExactly(expected.get(p.getKey()), within(tolerance));
        }
    }

    @Test
    void mismatchesAreRefused() {
        assertThatThrownBy(() -> new PpoUpdate(config(Map.of()), policy, reference, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ppo.critic is separate");
        assertThatThrownBy(() -> new PpoUpdate(config(Map.of(PpoConfig.CRITIC, "shared")), policy, reference, null,
                critic)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ppo.critic is shared");
        for (String estimator : List.of("grpo", "rloo")) {
            assertThatThrownBy(() -> config(Map.of(PpoConfig.ADVANTAGE_ESTIMATOR, estimator)))
                    .isInstanceOf(ConfigException.class).hasMessageContaining("ppo.critic")
                    .hasMessageContaining("ppo.advantage.estimator=gae").hasMessageContaining(estimator);
        }
        assertThatThrownBy(() -> config(Map.of(PpoConfig.CRITIC, "twin"))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("ppo.critic");
        assertThatThrownBy(() -> config(Map.of(PpoConfig.CRITIC_LEARNING_RATE, 2.0)))
                .isInstanceOf(ConfigException.class).hasMessageContaining("ppo.critic.learning.rate");
        try (TransformerRewardModel wider = TransformerRewardModel.create(SHAPE.withVocabSize(20), 1);
             ValueModel wrong = TransformerValueModel.fromCheckpoint(wider.toCheckpoint(Map.of(), null))) {
            assertThatThrownBy(() -> new PpoUpdate(config(Map.of()), policy, reference, null, wrong))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("vocabulary has 20 ids but the policy's 16");
        }
    }

    @Test
    void aHuggingFacePolicyAndAHuggingFaceCriticFromARewardFolderTrainSideBySide() throws Exception {
        TinyHfModels.Architecture arch = TinyHfModels.Architecture.QWEN2;
        int vocab = arch.config().vocabSize();
        Path policyDir = TinyHfModels.writeTokenizer(TinyHfModels.write(tmp.resolve("policy"), arch, 1), vocab);
        Path rmDir = TinyHfModels.writeTokenizer(TinyHfModels.writeReward(tmp.resolve("rm"), arch, 2, 0), vocab);
        try (HfPolicy hf = HfPolicy.load(policyDir, 32); HfPolicy hfReference = hf.referenceCopy();
             ValueModel hfCritic = CriticLoader.fromRewardModel(rmDir, hf)) {
            Map<String, float[]> policyBefore = weights(hf.block());
            Map<String, float[]> criticBefore = weights(hfCritic.block());
            PpoStats stats = new PpoUpdate(config(Map.of()), hf, hfReference, null, hfCritic)
                    .update(onPolicySamples(hf, vocab, 4, 2, 7), VERSION);
            assertThat(stats.get("charts/critic_grad_norm")).isPositive();
            List<String> policyMoved = moved(policyBefore, hf.block());
            List<String> criticMoved = moved(criticBefore, hfCritic.block());
            assertThat(policyMoved).noneMatch(SeparateCriticTest::isValueHead)
                    .anyMatch(n -> n.endsWith("embed_tokens.weight"));
            assertThat(policyBefore.keySet()).anyMatch(SeparateCriticTest::isValueHead);
            assertThat(criticMoved).anyMatch(n -> n.endsWith("score.weight"))
                    .anyMatch(n -> n.endsWith("embed_tokens.weight"));
            assertThat(criticMoved.size()).isGreaterThan(criticBefore.size() / 2);
        }
    }
}
