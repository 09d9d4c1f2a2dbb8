package io.streamrlhf.models.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.LogProbs;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.transformer.KvCache;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SamplerTest {

    private static final int V = 40;
    private static final TransformerConfig CONFIG = new TransformerConfig(V, 32, 32, 2, 4);
    private static final int PAD = 0;
    private static final int EOS = 1;
    private static TransformerPolicy policy;

    /** Prompts of different lengths, so left padding is exercised. */
    private static final int[][] PROMPTS = {
        {5, 6, 7, 8, 9},
        {10, 11},
        {12, 13, 14, 15, 16, 17, 18},
        {19},
    };

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
        policy = TransformerPolicy.create(CONFIG, 11);
    }

    @AfterAll
    static void stop() {
        policy.close();
    }

    @Test
    void kvCacheLogitsEqualFullForwardRecomputation() {
        int[] seq = {3, 14, 15, 9, 26, 5, 35, 8, 9, 7};
        int prompt = 4;
        try (NDManager m = policy.manager().newSubManager()) {
            NDArray full = policy.forward(m.create(seq, new Shape(1, seq.length)), null, false).logits();  // (1, T, V)
            KvCache cache = new KvCache(m, CONFIG, 1, seq.length);
            NDArray bias = m.create(causal(prompt), new Shape(1, 1, prompt, prompt));
            NDArray logits = policy.decodeLastLogits(m.create(Arrays.copyOf(seq, prompt), new Shape(1, prompt)),
                    m.create(new long[] {0, 1, 2, 3}, new Shape(1, prompt)), bias, cache, 0);  // (1, V)
            float maxDiff = logits.sub(full.get(":, {}, :", prompt - 1)).abs().max().getFloat();
            for (int t = prompt; t < seq.length; t++) {
                logits = policy.decodeLastLogits(m.create(new int[] {seq[t]}, new Shape(1, 1)),
                        m.create(new long[] {t}, new Shape(1, 1)), null, cache, t);
                maxDiff = Math.max(maxDiff, logits.sub(full.get(":, {}, :", t)).abs().max().getFloat());
            }
            assertThat(maxDiff).isLessThan(1e-4f);
        }
    }

    @Test
    void cachedSamplingEqualsFullForwardSamplingOnARaggedBatch() {
        SamplingParams params = SamplingParams.of(12, -1, PAD, 99);
        SampleResult cached = new Sampler(policy, true).sample(PROMPTS, params);
        SampleResult full = new Sampler(policy, false).sample(PROMPTS, params);
        for (int i = 0; i < PROMPTS.length; i++) {
            assertThat(cached.tokens()[i]).as("row %d", i).containsExactly(full.tokens()[i]);
            for (int t = 0; t < cached.length(i); t++) {
                assertThat(Math.abs(cached.logProbs()[i][t] - full.logProbs()[i][t])).isLessThan(1e-4f);
            }
        }
    }

    @Test
    void samplerLogProbsEqualTrainingForwardLogProbs() {
        SampleResult r = new Sampler(policy).sample(PROMPTS, SamplingParams.of(16, EOS, PAD, 5));
        float maxDiff = trainingLogProbDiff(r);
        assertThat(maxDiff).isLessThan(1e-4f);
        assertThat(r.totalTokens()).isGreaterThan(PROMPTS.length);  // not vacuous
    }

    /** Rebuilds each prompt+response, right-padded with a mask, and compares per-token log-probs. */
    static float trainingLogProbDiff(SampleResult r) {
        int b = r.batchSize();
        int width = 0;
        for (int i = 0; i < b; i++) {
            width = Math.max(width, r.sequence(i).length);
        }
        int[] flat = new int[b * width];
        float[] mask = new float[b * width];
        for (int i = 0; i < b; i++) {
            int[] s = r.sequence(i);
            System.arraycopy(s, 0, flat, i * width, s.length);
            Arrays.fill(mask, i * width, i * width + s.length, 1f);
        }
        try (NDManager m = policy.manager().newSubManager()) {
            NDArray tokens = m.create(flat, new Shape(b, width));
            NDArray logits = policy.forward(tokens, m.create(mask, new Shape(b, width)), false).logits();
            float[] logp = LogProbs.ofSequence(logits, tokens).toFloatArray();  // (B, W-1)
            float maxDiff = 0;
            for (int i = 0; i < b; i++) {
                int p = r.prompts()[i].length;
                for (int t = 0; t < r.length(i); t++) {
                    float train = logp[i * (width - 1) + p - 1 + t];
                    maxDiff = Math.max(maxDiff, Math.abs(train - r.logProbs()[i][t]));
                }
            }
            return maxDiff;
        }
    }

    @Test
    void sameSeedReproducesOtherSeedDiffers() {
        Sampler sampler = new Sampler(policy);
        SamplingParams params = SamplingParams.of(10, -1, PAD, 1234).withTemperature(1.3).withTopK(20);
        SampleResult a = sampler.sample(PROMPTS, params);
        SampleResult b = sampler.sample(PROMPTS, params);
        SampleResult c = sampler.sample(PROMPTS, params.withSeed(4321));
        assertThat(b.tokens()).isDeepEqualTo(a.tokens());
        assertThat(b.logProbs()).isDeepEqualTo(a.logProbs());
        assertThat(Arrays.deepEquals(c.tokens(), a.tokens())).isFalse();
    }

    @Test
    void topKOneIsGreedyAndGreedyLogProbIsZero() {
        Sampler sampler = new Sampler(policy);
        SampleResult k1 = sampler.sample(PROMPTS, SamplingParams.of(8, -1, PAD, 1).withTopK(1));
        SampleResult greedy = sampler.sample(PROMPTS, SamplingParams.of(8, -1, PAD, 2).withTemperature(0));
        assertThat(k1.tokens()).isDeepEqualTo(greedy.tokens());
        for (float[] row : k1.logProbs()) {
            for (float lp : row) {
                assertThat(lp).isEqualTo(0f);  // one kept token: probability 1
            }
        }
    }

    @Test
    void topKKeepsOnlyTheKMostLikelyAndRenormalises() {
        float[] logits = {2.0f, 1.0f, 0.5f, 3.0f, -1.0f};
        TokenDraw draw = new TokenDraw(5);
        SamplingParams params = SamplingParams.of(1, -1, PAD, 0).withTopK(2);
        java.util.SplittableRandom random = new java.util.SplittableRandom(3);
        double[] lp = new double[1];
        Set<Integer> seen = new HashSet<>();
        double z = Math.exp(3.0) + Math.exp(2.0);
        for (int i = 0; i < 400; i++) {
            int id = draw.draw(logits, 0, params, random, lp);
            seen.add(id);
            double expected = Math.log(Math.exp(logits[id]) / z);
            assertThat(lp[0]).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-9));
        }
        assertThat(seen).containsExactlyInAnyOrder(0, 3);
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingP() {
        // probabilities 0.5, 0.3, 0.15, 0.05: p = 0.7 keeps {0, 1}; p = 0.85 keeps {0, 1, 2}
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15),
            (float) Math.log(0.05)};
        TokenDraw draw = new TokenDraw(4);
        double[] lp = new double[1];
        java.util.SplittableRandom random = new java.util.SplittableRandom(9);
        int[] counts = new int[4];
        for (int i = 0; i < 4000; i++) {
            counts[draw.draw(logits, 0, SamplingParams.of(1, -1, PAD, 0).withTopP(0.7), random, lp)]++;
        }
        assertThat(counts[2]).isZero();
        assertThat(counts[3]).isZero();
        assertThat(counts[0] / 4000.0).isCloseTo(0.5 / 0.8, org.assertj.core.data.Offset.offset(0.03));
        int id = draw.draw(logits, 0, SamplingParams.of(1, -1, PAD, 0).withTopP(0.85), random, lp);
        assertThat(id).isBetween(0, 2);
        assertThat(lp[0]).isCloseTo(Math.log(new double[] {0.5, 0.3, 0.15}[id] / 0.95),
                org.assertj.core.data.Offset.offset(1e-6));
    }

    @Test
    void temperatureScalesTheDistributionTheLogProbComesFrom() {
        float[] logits = {1.0f, 0.0f};
        TokenDraw draw = new TokenDraw(2);
        double[] lp = new double[1];
        int id = draw.draw(logits, 0, SamplingParams.of(1, -1, PAD, 0).withTemperature(0.5),
                new java.util.SplittableRandom(1), lp);
        double z = Math.exp(2.0) + Math.exp(0.0);
        assertThat(lp[0]).isCloseTo(Math.log(Math.exp(logits[id] / 0.5) / z), org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void eosStopsARowAndIsItsLastToken() {
        // Find a prompt/seed whose greedy continuation is known, then make its first token the EOS.
        SampleResult greedy = new Sampler(policy).sample(PROMPTS, SamplingParams.of(6, -1, PAD, 0).withTemperature(0));
        int eos = greedy.tokens()[0][2];
        SampleResult r = new Sampler(policy).sample(PROMPTS, SamplingParams.of(6, eos, PAD, 0).withTemperature(0));
        int firstEos = -1;
        for (int t = 0; t < 6; t++) {
            if (greedy.tokens()[0][t] == eos) {
                firstEos = t;
                break;
            }
        }
        assertThat(r.finishReasons()[0]).isEqualTo(FinishReason.EOS);
        assertThat(r.length(0)).isEqualTo(firstEos + 1);
        assertThat(r.tokens()[0][firstEos]).isEqualTo(eos);
        for (int i = 0; i < PROMPTS.length; i++) {
            boolean hasEos = Arrays.stream(greedy.tokens()[i]).anyMatch(x -> x == eos);
            assertThat(r.finishReasons()[i]).isEqualTo(hasEos ? FinishReason.EOS : FinishReason.LENGTH);
            if (!hasEos) {
                assertThat(r.length(i)).isEqualTo(6);
            }
        }
    }

    @Test
    void budgetIsCappedByTheContextAndBadPromptsAreRefused() {
        int[][] longPrompt = {new int[28]};
        Arrays.fill(longPrompt[0], 3);
        SampleResult r = new Sampler(policy).sample(longPrompt, SamplingParams.of(10, -1, PAD, 0));
        assertThat(r.length(0)).isEqualTo(4);
        assertThat(r.finishReasons()[0]).isEqualTo(FinishReason.LENGTH);
        assertThatThrownBy(() -> new Sampler(policy).sample(new int[][] {{1, V}}, SamplingParams.of(2, -1, PAD, 0)))
                .hasMessageContaining("id " + V);
        assertThatThrownBy(() -> new Sampler(policy).sample(new int[][] {new int[32]}, SamplingParams.of(2, -1, PAD, 0)))
                .hasMessageContaining("context 32");
    }

    private static float[] causal(int t) {
        float[] b = new float[t * t];
        for (int i = 0; i < t; i++) {
            for (int j = i + 1; j < t; j++) {
                b[i * t + j] = Float.NEGATIVE_INFINITY;
            }
        }
        return b;
    }
}
