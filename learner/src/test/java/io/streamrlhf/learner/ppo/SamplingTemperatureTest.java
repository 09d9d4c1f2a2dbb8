package io.streamrlhf.learner.ppo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.ResponseLogProbs;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.Sampler;
import io.streamrlhf.models.sampling.SamplingParams;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link PpoUpdate} reads each sample's sampling temperature: the learner's log-probs of tokens the project's
 * {@link Sampler} drew at temperature T from the same policy are the log-probs the sampler recorded, so an
 * on-policy batch has importance weights and a first ratio of 1 and no KL to a reference equal to the policy.
 */
class SamplingTemperatureTest {

    private static final TransformerConfig SHAPE = new TransformerConfig(16, 24, 16, 1, 2);
    private static final long VERSION = 5;
    private static final double TOLERANCE = 1e-4;

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

    /** Samples of prompts of 2–4 tokens (so rows are padded) drawn by the {@link Sampler} at {@code temperature}. */
    private List<RolloutSample> sampled(int rows, double temperature, long seed) {
        Random random = new Random(seed);
        int[][] prompts = new int[rows][];
        for (int i = 0; i < rows; i++) {
            prompts[i] = new int[2 + random.nextInt(3)];
            for (int j = 0; j < prompts[i].length; j++) {
                prompts[i][j] = random.nextInt(SHAPE.vocabSize());
            }
        }
        SampleResult r = new Sampler(policy).sample(prompts,
                SamplingParams.of(8, 3, 0, seed).withTemperature(temperature));
        List<RolloutSample> out = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            out.add(new RolloutSample("g" + seed + "-" + i, "p" + seed + "-" + i, 1, 0, prompts[i], r.tokens()[i],
                    r.logProbs()[i], VERSION, random.nextGaussian(), 0.0, null, temperature));
        }
        return out;
    }

    private static PpoConfig config(Map<String, Object> overrides) {
        Map<String, Object> all = new HashMap<>(Map.of(PpoConfig.LEARNING_RATE, 1e-3, PpoConfig.WARMUP_STEPS, 0,
                PpoConfig.MINIBATCH_SIZE, 16, PpoConfig.EPOCHS, 2, PpoConfig.TARGET_KL, 0.0));
        all.putAll(overrides);
        return new PpoConfig(all);
    }

    /** Largest |learner's proximal log-prob − sampler's recorded log-prob| over the packed response tokens. */
    private static double largestBehaviourGap(Rollout r) {
        double gap = 0;
        for (int k = 0; k < r.mask.length; k++) {
            if (r.mask[k] > 0) {
                gap = Math.max(gap, Math.abs(r.proxLogp[k] - r.behaviourLogp[k]));
            }
        }
        return gap;
    }

    @ParameterizedTest
    @ValueSource(doubles = {1.0, 0.7})
    void learnerLogprobsEqualTheSamplersAtTheSamplingTemperature(double temperature) {
        List<RolloutSample> samples = sampled(16, temperature, 31);

        // Steps 3–8 with their own forward: the proximal log-probs are the ones the sampler recorded.
        Rollout r = new PpoUpdate(config(Map.of()), policy, reference, null).prepare(samples, VERSION);
        assertThat(r.maskCount).isGreaterThan(32);
        assertThat(r.padded).as("rows of different lengths").isTrue();
        assertThat(largestBehaviourGap(r)).isLessThan(TOLERANCE);
        for (int k = 0; k < r.mask.length; k++) {
            if (r.mask[k] > 0) {
                assertThat(Math.exp(r.proxLogp[k] - r.behaviourLogp[k])).as("π_prox/π_behaviour at %d", k)
                        .isCloseTo(1.0, within(TOLERANCE));
            }
        }
        // The reference, equal to the policy and read at the same temperature, is at no KL from it.
        assertThat(r.metrics.get("policy/kl_ref")).isCloseTo(0.0, within(TOLERANCE));

        // A whole update, fused (one minibatch) and not: the first epoch's ratio is 1.
        for (boolean fused : new boolean[] {true, false}) {
            try (TransformerPolicy trained = policy.referenceCopy()) {
                PpoStats stats = new PpoUpdate(config(Map.of(PpoConfig.FUSED_STATISTICS, fused)), trained,
                        reference, null).update(samples, VERSION);
                assertThat(stats.get("ppo/first_ratio_max_dev")).as("fused %s", fused).isLessThan(TOLERANCE);
                assertThat(stats.get("offpolicy/is_weight_mean")).as("fused %s", fused)
                        .isCloseTo(1.0, within(TOLERANCE));
                assertThat(stats.get("policy/kl_ref")).as("fused %s", fused).isCloseTo(0.0, within(TOLERANCE));
            }
        }
    }

    @Test
    void theUntemperedPolicyIsNotTheBehaviourAtTemperature07() {
        // What the learner computed before it read the temperature: the raw policy's log-probs. On this policy they
        // are far from what the sampler recorded at 0.7, so the test above would fail without the temperature.
        List<RolloutSample> samples = sampled(16, 0.7, 31);
        float[][] raw = ResponseLogProbs.compute(policy, samples.stream().map(RolloutSample::promptTokens).toList(),
                samples.stream().map(RolloutSample::responseTokens).toList());
        double gap = 0;
        for (int i = 0; i < samples.size(); i++) {
            for (int j = 0; j < raw[i].length; j++) {
                gap = Math.max(gap, Math.abs(raw[i][j] - samples.get(i).behaviourLogprobs()[j]));
            }
        }
        assertThat(gap).isGreaterThan(0.05);
    }

    @Test
    void eachRowIsReadAtItsOwnTemperature() {
        List<RolloutSample> samples = new ArrayList<>(sampled(6, 1.0, 41));
        samples.addAll(sampled(6, 0.7, 42));
        samples.addAll(sampled(4, 1.3, 43));
        Rollout r = new PpoUpdate(config(Map.of()), policy, reference, null).prepare(samples, VERSION);
        assertThat(r.tempered).isTrue();
        assertThat(largestBehaviourGap(r)).isLessThan(TOLERANCE);
        assertThat(r.metrics.get("policy/kl_ref")).isCloseTo(0.0, within(TOLERANCE));
        // Minibatches of 5 mix the temperatures in shuffled orders; the first one is still on-policy.
        PpoStats stats = new PpoUpdate(config(Map.of(PpoConfig.MINIBATCH_SIZE, 5)), policy, reference, null)
                .update(samples, VERSION);
        assertThat(stats.get("ppo/first_ratio_max_dev")).isLessThan(TOLERANCE);
        assertThat(stats.get("offpolicy/is_weight_mean")).isCloseTo(1.0, within(TOLERANCE));
    }

    @Test
    void greedySamplesAreReadUnderTheRawPolicy() {
        List<RolloutSample> samples = sampled(4, 0.0, 61);
        Rollout r = new PpoUpdate(config(Map.of()), policy, reference, null).prepare(samples, VERSION);
        float[][] raw = ResponseLogProbs.compute(policy, samples.stream().map(RolloutSample::promptTokens).toList(),
                samples.stream().map(RolloutSample::responseTokens).toList());
        assertThat(r.tempered).isFalse();
        for (int i = 0; i < r.rows; i++) {
            for (int j = 0; j < r.rowLength[i]; j++) {
                int k = i * r.f + r.rowStart[i] + j;
                assertThat(r.behaviourLogp[k]).as("the sampler's point mass").isZero();
                assertThat((double) r.proxLogp[k]).isCloseTo(raw[i][j], within(TOLERANCE));
            }
        }
    }

    @Test
    void referenceLogprobsGivenUpstreamAreReadOnlyForSamplesDrawnAtTemperatureOne() {
        List<RolloutSample> plain = withGivenReference(sampled(4, 1.0, 51));
        List<RolloutSample> tempered = withGivenReference(sampled(4, 0.7, 52));
        PpoUpdate ppo = new PpoUpdate(config(Map.of()), policy, reference, null);
        assertThat(ppo.prepare(plain, VERSION).metrics.get("data/reference_given")).isEqualTo(1.0);
        // The stream's are the raw reference's; the learner reads the reference at 0.7, so it runs its own.
        Rollout r = ppo.prepare(tempered, VERSION);
        assertThat(r.metrics.get("data/reference_given")).isEqualTo(0.0);
        assertThat(r.metrics.get("policy/kl_ref")).isCloseTo(0.0, within(TOLERANCE));
    }

    /** The samples with the raw reference's log-probs, as the reward stream computes them. */
    private List<RolloutSample> withGivenReference(List<RolloutSample> samples) {
        float[][] given = ResponseLogProbs.compute(reference, samples.stream().map(RolloutSample::promptTokens)
                .toList(), samples.stream().map(RolloutSample::responseTokens).toList());
        List<RolloutSample> out = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            RolloutSample s = samples.get(i);
            out.add(new RolloutSample(s.generationId(), s.promptId(), s.groupSize(), s.groupIndex(), s.promptTokens(),
                    s.responseTokens(), s.behaviourLogprobs(), s.policyVersion(), s.score(), s.ensembleStd(),
                    given[i], s.temperature()));
        }
        return out;
    }
}
