package io.streamrlhf.learner.ppo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.schemas.avro.FinishReason;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.SamplingParams;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link RolloutSample#fromScored(ScoredGeneration, String)}: which reference log-probs the learner trusts. */
class RolloutSampleTest {

    private static final String OURS = "sha256:" + "a".repeat(64);

    private static ScoredGeneration scored(List<Float> reference, String referenceModel) {
        return scored(reference, referenceModel, 1f);
    }

    private static ScoredGeneration scored(List<Float> reference, String referenceModel, float temperature) {
        Instant now = Instant.parse("2026-12-03T12:00:00Z");
        Generation g = Generation.newBuilder().setGenerationId("g-1").setPromptId("p-1").setGroupSize(2)
                .setGroupIndex(0).setPromptTokens(List.of(1, 2)).setResponseTokens(List.of(3, 4, 5)).setPromptText("p")
                .setResponseText("r").setBehaviourLogprobs(List.of(-1f, -2f, -3f)).setPolicyName("policy")
                .setPolicyVersion(4).setWorkerId("w").setFinishReason(FinishReason.EOS)
                .setSampling(SamplingParams.newBuilder().setTemperature(temperature).setMaxNewTokens(8).build())
                .setStartedAt(now).setCreatedAt(now).build();
        return ScoredGeneration.newBuilder().setGeneration(g).setScores(List.of()).setEnsembleMean(0.5)
                .setEnsembleStd(0.1).setEnsembleMin(0.4).setAggregation("mean").setReward(0.5).setScoredAt(now)
                .setReferenceLogprobs(reference).setReferenceModel(referenceModel).build();
    }

    @Test
    void referenceLogprobsOfTheLearnersOwnReferenceAreKept() {
        RolloutSample s = RolloutSample.fromScored(scored(List.of(-0.5f, -1.5f, -2.5f), OURS), OURS);
        assertThat(s.referenceLogprobs()).containsExactly(-0.5f, -1.5f, -2.5f);
        assertThat(s.behaviourLogprobs()).containsExactly(-1f, -2f, -3f);
        assertThat(s.score()).isEqualTo(0.5);
        // fewer than the response: the context cut the response (the learner checks each row's packed length)
        assertThat(RolloutSample.fromScored(scored(List.of(-0.5f), OURS), OURS).referenceLogprobs())
                .containsExactly(-0.5f);
    }

    @Test
    void referenceLogprobsTheLearnerCannotTrustAreDroppedAndTheSampleIsStillTrainable() {
        String other = "sha256:" + "b".repeat(64);
        assertThat(RolloutSample.fromScored(scored(List.of(-0.5f, -1.5f, -2.5f), other), OURS).referenceLogprobs())
                .as("another reference").isNull();
        assertThat(RolloutSample.fromScored(scored(List.of(-0.5f, -1.5f, -2.5f), null), OURS).referenceLogprobs())
                .as("no reference named").isNull();
        assertThat(RolloutSample.fromScored(scored(List.of(-0.5f, Float.NaN, -2.5f), OURS), OURS)
                .referenceLogprobs()).as("not finite").isNull();
        assertThat(RolloutSample.fromScored(scored(List.of(-0.5f, -1f, -1f, -1f), OURS), OURS).referenceLogprobs())
                .as("more than the response").isNull();
        assertThat(RolloutSample.fromScored(scored(null, null), OURS).referenceLogprobs()).as("none").isNull();
        assertThat(RolloutSample.fromScored(scored(List.of(-0.5f, -1.5f, -2.5f), OURS)).referenceLogprobs())
                .as("a learner that names no reference").isNull();
        assertThat(RolloutSample.fromScored(scored(List.of(-0.5f, -1.5f, -2.5f), other), OURS).generationId())
                .isEqualTo("g-1");
    }

    @Test
    void aSampleBuiltWithMoreReferenceLogprobsThanTokensIsRefused() {
        assertThatThrownBy(() -> new RolloutSample("g", "p", 1, 0, new int[] {1}, new int[] {2}, new float[] {-1f},
                0, 0.0, 0.0, new float[] {-1f, -2f})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2 reference log-probs for 1 response tokens");
    }

    @Test
    void theSamplingTemperatureIsReadAndAGreedySampleIsReadAtTemperatureOne() {
        RolloutSample tempered = RolloutSample.fromScored(scored(null, null, 0.7f), OURS);
        assertThat(tempered.temperature()).isEqualTo(0.7f);
        assertThat(tempered.logitTemperature()).isEqualTo(0.7f);
        RolloutSample greedy = RolloutSample.fromScored(scored(null, null, 0f), OURS);
        assertThat(greedy.temperature()).isZero();
        assertThat(greedy.logitTemperature()).isEqualTo(1.0);
        assertThat(RolloutSample.fromScored(scored(null, null, 1f)).logitTemperature()).isEqualTo(1.0);
    }

    @Test
    void aTemperatureThatIsNegativeOrNotFiniteIsRefusedNamingTheGeneration() {
        for (float t : new float[] {-0.5f, Float.NaN, Float.POSITIVE_INFINITY}) {
            assertThatThrownBy(() -> RolloutSample.fromScored(scored(null, null, t), OURS)).as("temperature %s", t)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("generation g-1: sampling temperature " + (double) t);
        }
    }

    @Test
    void aTokenIdOutsideTheVocabularyIsRefusedNamingItsPosition() {
        assertThat(RolloutSample.fromScored(scored(null, null), OURS, 6).responseTokens()).containsExactly(3, 4, 5);
        assertThatThrownBy(() -> RolloutSample.fromScored(scored(null, null), OURS, 5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("generation g-1: response token id 5 at position 2 is outside the policy's vocabulary "
                        + "of 5 ids");
        ScoredGeneration negative = scored(null, null);
        negative.getGeneration().setPromptTokens(List.of(1, -7));
        assertThatThrownBy(() -> RolloutSample.fromScored(negative, OURS, 6))
                .hasMessageContaining("prompt token id -7 at position 1");
    }

    @Test
    void aNonFiniteBehaviourLogProbIsRefused() {
        for (float bad : new float[] {Float.NaN, Float.NEGATIVE_INFINITY}) {
            ScoredGeneration s = scored(null, null);
            s.getGeneration().setBehaviourLogprobs(List.of(-1f, bad, -3f));
            assertThatThrownBy(() -> RolloutSample.fromScored(s, OURS, 6)).as("log-prob %s", bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("generation g-1: behaviour log-prob " + bad + " at response position 1");
        }
    }
}
