package io.streamrlhf.learner.ppo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.ResponseLogProbs;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.Sampler;
import io.streamrlhf.models.sampling.SamplingParams;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link PpoUpdate} on a tiny real policy: on-policy identities, staleness, importance weights, warm-up, state. */
class PpoUpdateTest {

    private static final TransformerConfig SHAPE = new TransformerConfig(16, 24, 16, 1, 2);
    private static final long VERSION = 5;

    private TransformerPolicy policy;
    private TransformerPolicy reference;

    @BeforeEach
    void create() {
        ModelRuntime.init(1);
        policy = TransformerPolicy.create(SHAPE, 7);
        reference = policy.referenceCopy();
    }

    @AfterEach
    void close() {
        policy.close();
        reference.close();
    }

    /** Samples from the policy itself, scores at random, groups of {@code group} per prompt. */
    private List<RolloutSample> onPolicySamples(int prompts, int group, long version, long seed) {
        Random random = new Random(seed);
        int[][] promptTokens = new int[prompts * group][];
        for (int i = 0; i < prompts; i++) {
            int[] p = new int[2 + random.nextInt(3)];
            for (int j = 0; j < p.length; j++) {
                p[j] = random.nextInt(SHAPE.vocabSize());
            }
            for (int g = 0; g < group; g++) {
                promptTokens[i * group + g] = p;
            }
        }
        SampleResult r = new Sampler(policy).sample(promptTokens, SamplingParams.of(8, 3, 0, seed));
        List<RolloutSample> out = new ArrayList<>();
        for (int i = 0; i < r.batchSize(); i++) {
            out.add(new RolloutSample("g" + seed + "-" + i, "p" + seed + "-" + i / group, group, i % group,
                    promptTokens[i], r.tokens()[i], r.logProbs()[i], version, random.nextGaussian(), 0.1));
        }
        return out;
    }

    private static PpoConfig config(Map<String, Object> overrides) {
        Map<String, Object> all = new HashMap<>(Map.of(PpoConfig.LEARNING_RATE, 1e-3, PpoConfig.WARMUP_STEPS, 0,
                PpoConfig.MINIBATCH_SIZE, 16, PpoConfig.EPOCHS, 2, PpoConfig.TARGET_KL, 0.0));
        all.putAll(overrides);
        return new PpoConfig(all);
    }

    @Test
    void onPolicyFirstEpochHasRatioOneAndZeroApproxKl() {
        List<RolloutSample> samples = onPolicySamples(8, 2, VERSION, 1);
        PpoUpdate ppo = new PpoUpdate(config(Map.of()), policy, reference, null);
        PpoStats stats = ppo.update(samples, VERSION);
        assertThat(stats.get("ppo/first_ratio_mean")).isCloseTo(1.0, within(1e-5));
        assertThat(stats.get("ppo/first_ratio_max_dev")).isLessThan(1e-5);
        assertThat(Math.abs(stats.get("ppo/first_approx_kl"))).isLessThan(1e-5);
        // behaviour (sampler, KV cache) and proximal (training forward) log-probs agree, so the weights are 1
        assertThat(stats.get("offpolicy/is_weight_mean")).isCloseTo(1.0, within(1e-4));
        assertThat(stats.get("offpolicy/is_truncated_frac")).isLessThan(0.6);
        // a policy fresh from the reference has no KL to it
        assertThat(stats.get("policy/kl_ref")).isCloseTo(0.0, within(1e-4));
        assertThat(stats.trainedIds()).hasSize(16);
        assertThat(stats.get("ppo/minibatch_steps")).isEqualTo(2.0);
        // after two epochs the policy has moved: a second update sees KL to the reference
        PpoStats next = ppo.update(onPolicySamples(8, 2, VERSION, 2), VERSION);
        assertThat(Math.abs(next.get("policy/kl_ref"))).isGreaterThan(1e-5);
        assertThat(ppo.updates()).isEqualTo(2);
    }

    @Test
    void theFrameStartsAtTheShortestPromptsLastPositionAndStillScoresEveryResponseToken() {
        int[][] prompts = {{1, 2, 3, 4, 5, 6}, {7, 8, 9}, {10, 11, 12, 13}};
        SampleResult sampled = new Sampler(policy).sample(prompts, SamplingParams.of(6, -1, 0, 9));
        List<RolloutSample> samples = new ArrayList<>();
        for (int i = 0; i < prompts.length; i++) {
            samples.add(new RolloutSample("g" + i, "p" + i, 1, 0, prompts[i], sampled.tokens()[i],
                    sampled.logProbs()[i], VERSION, 0.5, 0.0));
        }
        Rollout r = new PpoUpdate(config(Map.of()), policy, reference, null).prepare(samples, VERSION);

        // positions 0 and 1 score prompt tokens in every row: the frame leaves them out
        assertThat(r.frameStart).isEqualTo(2);
        assertThat(r.t).isEqualTo(12);
        assertThat(r.f).isEqualTo(r.t - 1 - 2);
        assertThat(r.rowStart).containsExactly(3, 0, 1);
        assertThat(r.maskCount).isEqualTo(18);
        // on-policy: the proximal log-prob of each response token (read off the trimmed frame) is the sampler's
        for (int i = 0; i < prompts.length; i++) {
            for (int j = 0; j < r.rowLength[i]; j++) {
                int k = i * r.f + r.rowStart[i] + j;
                assertThat((double) r.proxLogp[k]).as("row %d token %d", i, j)
                        .isCloseTo(sampled.logProbs()[i][j], within(1e-4));
            }
        }
    }

    @Test
    void staleSampleIsDropped() {
        List<RolloutSample> samples = new ArrayList<>(onPolicySamples(4, 1, VERSION, 3));
        RolloutSample fresh = samples.get(0);
        RolloutSample stale = new RolloutSample("stale", "p-stale", 1, 0, fresh.promptTokens(), fresh.responseTokens(),
                fresh.behaviourLogprobs(), VERSION - 5, 1.0, 0.0);
        RolloutSample edge = new RolloutSample("edge", "p-edge", 1, 0, fresh.promptTokens(), fresh.responseTokens(),
                fresh.behaviourLogprobs(), VERSION - 4, 1.0, 0.0);
        samples.add(stale);
        samples.add(edge);
        PpoStats stats = new PpoUpdate(config(Map.of(PpoConfig.MAX_STALENESS, 4)), policy, reference, null)
                .update(samples, VERSION);
        assertThat(stats.droppedStale()).containsExactly("stale");
        assertThat(stats.trainedIds()).contains("edge").doesNotContain("stale").hasSize(5);
        assertThat(stats.get("data/dropped_stale")).isEqualTo(1.0);
        // staleness over all six: (0·4 + 5 + 4) / 6
        assertThat(stats.get("data/staleness")).isCloseTo(1.5, within(1e-12));
    }

    @Test
    void oneVersionStaleSampleGetsTheTruncatedWeight() {
        List<RolloutSample> base = onPolicySamples(2, 1, VERSION, 4);
        List<RolloutSample> samples = new ArrayList<>();
        // behaviour log-probs 0.5 below the proximal ones: π_prox/π_b = e^0.5 ≈ 1.65 → truncated to 1.2
        samples.add(shifted(base.get(0), "higher", -0.5f));
        // 0.5 above: e^−0.5 ≈ 0.61, below the truncation, kept as it is
        samples.add(shifted(base.get(1), "lower", 0.5f));
        PpoUpdate ppo = new PpoUpdate(config(Map.of(PpoConfig.IS_TRUNCATION, 1.2)), policy, reference, null);
        Rollout r = ppo.prepare(samples, VERSION);
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < r.rowLength[i]; j++) {
                int k = i * r.f + r.rowStart[i] + j;
                double expected = i == 0 ? 1.2 : Math.exp(-0.5);
                assertThat((double) r.isWeights[k]).as("row %d token %d", i, j).isCloseTo(expected, within(1e-4));
            }
        }
        assertThat(r.metrics.get("data/staleness")).isEqualTo(1.0);
    }

    private static RolloutSample shifted(RolloutSample s, String id, float shift) {
        float[] logp = s.behaviourLogprobs().clone();
        for (int i = 0; i < logp.length; i++) {
            logp[i] += shift;
        }
        return new RolloutSample(id, id, 1, 0, s.promptTokens(), s.responseTokens(), logp, VERSION - 1, s.score(), 0.0);
    }

    @Test
    void criticWarmupMovesOnlyTheValueHead() {
        Map<String, float[]> before = weights();
        PpoUpdate ppo = new PpoUpdate(config(Map.of(PpoConfig.CRITIC_WARMUP_UPDATES, 1)), policy, reference, null);
        PpoStats stats = ppo.update(onPolicySamples(8, 2, VERSION, 5), VERSION);
        assertThat(stats.get("ppo/actor_moves")).isEqualTo(0.0);
        Map<String, float[]> after = weights();
        for (String name : before.keySet()) {
            boolean moved = !Arrays.equals(before.get(name), after.get(name));
            assertThat(moved).as(name).isEqualTo(name.contains("value"));
        }
        PpoStats second = ppo.update(onPolicySamples(8, 2, VERSION, 6), VERSION);
        assertThat(second.get("ppo/actor_moves")).isEqualTo(1.0);
        assertThat(Arrays.equals(after.get(lmHead()), weights().get(lmHead()))).isFalse();
    }

    private String lmHead() {
        return weights().keySet().stream().filter(n -> n.contains("lm_head")).findFirst().orElseThrow();
    }

    /** Every parameter of {@code model} equals {@code expected}'s within 1e-5. */
    private static void assertSameWeights(TransformerPolicy model, Map<String, float[]> expected) {
        for (Pair<String, Parameter> p : model.block().getParameters()) {
            assertThat(p.getValue().getArray().toFloatArray()).as(p.getKey())
                    .containsExactly(expected.get(p.getKey()), within(1e-5f));
        }
    }

    private Map<String, float[]> weights() {
        Map<String, float[]> out = new HashMap<>();
        for (Pair<String, Parameter> p : policy.block().getParameters()) {
            out.put(p.getKey(), p.getValue().getArray().toFloatArray());
        }
        return out;
    }

    @Test
    void groupEstimatorsTrainWithoutACritic() {
        for (String estimator : List.of("grpo", "rloo")) {
            PpoUpdate ppo = new PpoUpdate(config(Map.of(PpoConfig.ADVANTAGE_ESTIMATOR, estimator)), policy, reference,
                    null);
            PpoStats stats = ppo.update(onPolicySamples(4, 4, VERSION, 7), VERSION);
            assertThat(stats.get("losses/policy_loss")).as(estimator).isFinite();
            assertThat(stats.get("losses/kl_loss")).as(estimator).isGreaterThanOrEqualTo(0.0);
            assertThat(stats.trainedIds()).hasSize(16);
        }
    }

    @Test
    void stateRoundTripsAndRestoredLearnerContinuesIdentically() {
        PpoConfig cfg = config(Map.of(PpoConfig.EPOCHS, 1, PpoConfig.MINIBATCH_SIZE, 32));
        PpoUpdate ppo = new PpoUpdate(cfg, policy, reference, null);
        ppo.update(onPolicySamples(8, 2, VERSION, 8), VERSION);
        PpoUpdate.State state = ppo.state();
        byte[] weights = io.streamrlhf.models.checkpoint.ModelWeights.encode(policy.block());
        List<RolloutSample> next = onPolicySamples(8, 2, VERSION, 9);

        try (TransformerPolicy twin = TransformerPolicy.create(SHAPE, 99)) {
            io.streamrlhf.models.checkpoint.ModelWeights.copyInto(twin.block(), weights);
            PpoUpdate restored = new PpoUpdate(cfg, twin, reference, null);
            restored.restore(state);
            assertThat(restored.state().optimizer()).isEqualTo(state.optimizer());
            assertThat(restored.updates()).isEqualTo(1);
            PpoStats a = ppo.update(next, VERSION);
            PpoStats b = restored.update(next, VERSION);
            assertThat(b.get("losses/loss")).isCloseTo(a.get("losses/loss"), within(1e-5));
            Map<String, float[]> w = weights();
            assertSameWeights(twin, w);
        }
    }

    @Test
    void fusedStatisticsGiveTheSameUpdateAsASeparateForward() {
        List<RolloutSample> first = onPolicySamples(8, 2, VERSION, 11);
        List<RolloutSample> second = onPolicySamples(8, 2, VERSION, 12);
        byte[] start = io.streamrlhf.models.checkpoint.ModelWeights.encode(policy.block());
        Map<String, Object> oneMinibatch = Map.of(PpoConfig.EPOCHS, 2, PpoConfig.MINIBATCH_SIZE, 16);
        PpoUpdate fused = new PpoUpdate(config(oneMinibatch), policy, reference, null);
        PpoStats fusedFirst = fused.update(first, VERSION);
        PpoStats fusedSecond = fused.update(second, VERSION);
        Map<String, float[]> fusedWeights = weights();

        try (TransformerPolicy twin = TransformerPolicy.create(SHAPE, 99)) {
            io.streamrlhf.models.checkpoint.ModelWeights.copyInto(twin.block(), start);
            Map<String, Object> separate = new HashMap<>(oneMinibatch);
            separate.put(PpoConfig.FUSED_STATISTICS, false);
            PpoUpdate plain = new PpoUpdate(config(separate), twin, reference, null);
            PpoStats plainFirst = plain.update(first, VERSION);
            PpoStats plainSecond = plain.update(second, VERSION);
            for (String key : List.of("losses/loss", "losses/approx_kl", "policy/kl_ref", "policy/entropy",
                    "offpolicy/is_weight_mean", "losses/explained_variance")) {
                assertThat(fusedFirst.get(key)).as(key).isCloseTo(plainFirst.get(key), within(1e-5));
                assertThat(fusedSecond.get(key)).as(key).isCloseTo(plainSecond.get(key), within(1e-5));
            }
            // the fused first step is exactly on-policy
            assertThat(fusedFirst.get("ppo/first_ratio_max_dev")).isLessThan(1e-6);
            // the policy moved between the updates, so the second's statistics are the moved policy's
            assertThat(fusedSecond.get("policy/kl_ref")).isNotCloseTo(0.0, within(1e-5));
            assertSameWeights(twin, fusedWeights);
        }
    }

    /** The samples with their reference log-probs given, as the reward stream computes them, plus {@code shift}. */
    private List<RolloutSample> withReference(List<RolloutSample> samples, float shift) {
        float[][] given = ResponseLogProbs.compute(reference, samples.stream().map(RolloutSample::promptTokens)
                .toList(), samples.stream().map(RolloutSample::responseTokens).toList());
        List<RolloutSample> out = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            RolloutSample s = samples.get(i);
            float[] g = given[i].clone();
            for (int j = 0; j < g.length; j++) {
                g[j] += shift;
            }
            out.add(new RolloutSample(s.generationId(), s.promptId(), s.groupSize(), s.groupIndex(), s.promptTokens(),
                    s.responseTokens(), s.behaviourLogprobs(), s.policyVersion(), s.score(), s.ensembleStd(), g));
        }
        return out;
    }

    @Test
    void referenceLogprobsGivenUpstreamGiveTheSameUpdateAsTheLearnersOwnForward() {
        // Move the policy away from its reference first, so that the KL penalty has something to say.
        new PpoUpdate(config(Map.of()), policy, reference, null).update(onPolicySamples(8, 2, VERSION, 21), VERSION);
        byte[] start = io.streamrlhf.models.checkpoint.ModelWeights.encode(policy.block());
        List<RolloutSample> next = onPolicySamples(8, 2, VERSION, 22);
        PpoStats own = new PpoUpdate(config(Map.of()), policy, reference, null).update(next, VERSION);
        Map<String, float[]> ownWeights = weights();

        try (TransformerPolicy twin = TransformerPolicy.create(SHAPE, 99)) {
            io.streamrlhf.models.checkpoint.ModelWeights.copyInto(twin.block(), start);
            PpoStats given = new PpoUpdate(config(Map.of()), twin, reference, null)
                    .update(withReference(next, 0f), VERSION);
            assertThat(own.get("data/reference_given")).isEqualTo(0.0);
            assertThat(given.get("data/reference_given")).isEqualTo(1.0);
            assertThat(own.get("policy/kl_ref")).isNotCloseTo(0.0, within(1e-3));
            for (String key : List.of("policy/kl_ref", "losses/loss", "losses/approx_kl", "losses/explained_variance",
                    "reward/scaled_mean")) {
                assertThat(given.get(key)).as(key).isCloseTo(own.get(key), within(1e-5));
            }
            assertSameWeights(twin, ownWeights);
        }
    }

    @Test
    void givenReferenceLogprobsAreWhatTheKlPenaltyReadsAndOneMissingRowMeansTheLearnerComputesThemAll() {
        List<RolloutSample> samples = onPolicySamples(8, 2, VERSION, 23);
        PpoUpdate ppo = new PpoUpdate(config(Map.of()), policy, reference, null);
        Rollout own = ppo.prepare(samples, VERSION);
        // One nat lower on every token: the sequences' KL to the reference grows by their mean length.
        Rollout lowered = ppo.prepare(withReference(samples, -1f), VERSION);
        double meanLength = own.metrics.get("data/tokens") / own.metrics.get("data/sequences");
        assertThat(lowered.metrics.get("data/reference_given")).isEqualTo(1.0);
        assertThat(lowered.metrics.get("policy/kl_ref"))
                .isCloseTo(own.metrics.get("policy/kl_ref") + meanLength, within(1e-4));

        List<RolloutSample> oneMissing = new ArrayList<>(withReference(samples, -1f));
        oneMissing.set(3, samples.get(3));
        Rollout mixed = ppo.prepare(oneMissing, VERSION);
        assertThat(mixed.metrics.get("data/reference_given")).isEqualTo(0.0);
        assertThat(mixed.metrics.get("policy/kl_ref")).isCloseTo(own.metrics.get("policy/kl_ref"), within(1e-6));
    }
}
