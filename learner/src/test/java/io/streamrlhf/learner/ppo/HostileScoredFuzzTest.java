package io.streamrlhf.learner.ppo;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.schemas.avro.FinishReason;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.SamplingParams;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.Tuple.Tuple2;
import net.jqwik.api.statistics.Statistics;

/**
 * Valid {@code scored} records with hostile values (token ids outside the vocabulary or negative, empty and long
 * arrays, NaN and infinite log-probs, rewards and temperatures) become a sample the policy can embed, or an
 * {@link IllegalArgumentException} naming the generation, which the learner dead-letters. Nothing else escapes.
 */
class HostileScoredFuzzTest {
    private static final int VOCABULARY = 64;
    private static final String REFERENCE = "sha256:" + "a".repeat(64);

    @Property(tries = 2_000, seed = "20261207", shrinking = ShrinkingMode.OFF)
    void aHostileScoredRecordIsTrainableOrRefusedByName(@ForAll("hostile") ScoredGeneration scored) {
        RolloutSample sample;
        try {
            sample = RolloutSample.fromScored(scored, REFERENCE, VOCABULARY);
        } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).startsWith("generation " + scored.getGeneration().getGenerationId() + ":");
            Statistics.collect("refused");
            return;
        }
        Statistics.collect("trainable");
        for (int t : sample.promptTokens()) {
            assertThat(t).isBetween(0, VOCABULARY - 1);
        }
        for (int t : sample.responseTokens()) {
            assertThat(t).isBetween(0, VOCABULARY - 1);
        }
        for (float p : sample.behaviourLogprobs()) {
            assertThat(Float.isFinite(p)).isTrue();
        }
        assertThat(Double.isFinite(sample.score())).isTrue();
    }

    @Provide
    Arbitrary<ScoredGeneration> hostile() {
        Arbitrary<Integer> tokens = Arbitraries.frequencyOf(
                Tuple2s.of(20, Arbitraries.integers().between(0, VOCABULARY - 1)),
                Tuple2s.of(1, Arbitraries.integers().between(Integer.MIN_VALUE, -1)),
                Tuple2s.of(1, Arbitraries.integers().between(VOCABULARY, Integer.MAX_VALUE)));
        Arbitrary<Float> logprobs = Arbitraries.frequencyOf(
                Tuple2s.of(20, Arbitraries.floats().between(-30f, 0f)),
                Tuple2s.of(1, Arbitraries.of(Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY)));
        Arbitrary<List<Integer>> prompt = tokens.list().ofMaxSize(64);
        Arbitrary<Integer> responseLength = Arbitraries.frequencyOf(
                Tuple2s.of(10, Arbitraries.integers().between(0, 32)),
                Tuple2s.of(1, Arbitraries.integers().between(2_000, 20_000)));
        Arbitrary<Double> reward = Arbitraries.frequencyOf(
                Tuple2s.of(10, Arbitraries.doubles().between(-10, 10)),
                Tuple2s.of(1, Arbitraries.of(Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY)));
        Arbitrary<Float> temperature = Arbitraries.of(0f, 0.7f, 1f, -1f, Float.NaN, Float.POSITIVE_INFINITY);
        Arbitrary<Integer> logprobShift = Arbitraries.of(0, 0, 0, 0, -1, 1);
        return Combinators.combine(prompt, responseLength.flatMap(n -> tokens.list().ofSize(n)),
                        logprobs.list().ofMaxSize(40), reward, temperature, logprobShift)
                .as((p, response, lp, r, temp, shift) -> scored(p, response, lp, shift, r, temp));
    }

    /** Behaviour log-probs as many as the response (plus {@code shift}), drawn from {@code pool} cyclically. */
    private static ScoredGeneration scored(List<Integer> prompt, List<Integer> response, List<Float> pool, int shift,
                                           double reward, float temperature) {
        int n = Math.max(0, response.size() + shift);
        List<Float> behaviour = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            behaviour.add(pool.isEmpty() ? -1f : pool.get(i % pool.size()));
        }
        Instant now = Instant.parse("2026-12-07T06:00:00Z");
        Generation g = Generation.newBuilder().setGenerationId("g-fuzz").setPromptId("p-fuzz").setGroupSize(2)
                .setGroupIndex(0).setPromptTokens(prompt).setResponseTokens(response).setPromptText("\u202e\u0000p")
                .setResponseText("r\uD83D\uDE00").setBehaviourLogprobs(behaviour).setPolicyName("policy")
                .setPolicyVersion(1).setWorkerId("w").setFinishReason(FinishReason.EOS)
                .setSampling(SamplingParams.newBuilder().setTemperature(temperature).setMaxNewTokens(8).build())
                .setStartedAt(now).setCreatedAt(now).build();
        return ScoredGeneration.newBuilder().setGeneration(g).setScores(List.of()).setEnsembleMean(reward)
                .setEnsembleStd(0.1).setEnsembleMin(reward).setAggregation("mean").setReward(reward).setScoredAt(now)
                .setReferenceLogprobs(null).setReferenceModel(null).build();
    }

    /** Weighted choices for {@link Arbitraries#frequencyOf}. */
    private static final class Tuple2s {
        static <T> Tuple2<Integer, Arbitrary<? extends T>> of(int weight, Arbitrary<T> arbitrary) {
            return Tuple.of(weight, arbitrary);
        }
    }
}
