package io.streamrlhf.learner.rm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Preference strength, its summary, and the flip and margin rules, against hand-computed values. */
class PreferenceStrengthTest {

    private static EncodedPair pair(String id, int chosen, int rejected) {
        return new EncodedPair(id, new int[] {1}, new int[] {chosen}, new int[] {rejected}, 1.0, 0.0, false);
    }

    @Test
    void strengthIsMeanAndPopulationStdOfTheDifferences() {
        // diffs 1, 2, 3, −2: mean 1; squared deviations 0, 1, 4, 9 → variance 14/4 = 3.5, std 1.870829.
        PairStrength s = PairStrength.of(new double[] {1, 2, 3, -2});
        assertThat(s.mean()).isCloseTo(1.0, within(1e-12));
        assertThat(s.std()).isCloseTo(1.870829, within(1e-6));
        assertThat(s.ensembleSize()).isEqualTo(4);
        assertThat(s.flipped().mean()).isEqualTo(-1.0);
        assertThatThrownBy(() -> PairStrength.of(new double[0])).hasMessageContaining("no reward-model differences");
    }

    @Test
    void summaryCountsNegativesAndBinsTheMeans() {
        List<PairStrength> strengths = List.of(new PairStrength(-0.5, 0.1, 4), new PairStrength(0.3, 0.2, 4),
                new PairStrength(-0.1, 0.3, 4), new PairStrength(9.0, 0.4, 4));
        StrengthSummary summary = StrengthSummary.of(strengths, 4, 1.0);
        assertThat(summary.shareNegative()).isEqualTo(0.5);
        assertThat(summary.meanMean()).isCloseTo((-0.5 + 0.3 - 0.1 + 9.0) / 4, within(1e-12));
        assertThat(summary.meanStd()).isCloseTo(0.25, within(1e-12));
        // bins [-1,-0.5), [-0.5,0), [0,0.5), [0.5,1]; 9.0 lands in the last bin.
        assertThat(summary.counts()).containsExactly(0, 2, 1, 1);
        assertThat(summary.histogram()).contains("[-0.50,  0.00)      2");
    }

    @Test
    void flipTurnsPairsWithNegativeMeanAndMarginUsesTheFlippedStrength() {
        List<EncodedPair> pairs = List.of(pair("a", 10, 11), pair("b", 12, 13), pair("c", 14, 15), pair("d", 16, 17));
        List<PairStrength> strengths = List.of(new PairStrength(-0.5, 0, 4), new PairStrength(0.3, 0, 4),
                new PairStrength(-0.1, 0, 4), new PairStrength(2.0, 0, 4));
        List<TrainingPair> out = PreferenceRelabeling.prepare(pairs, strengths, RmMethod.parse("flip+margin"));
        assertThat(out).extracting(TrainingPair::flipped).containsExactly(true, false, true, false);
        assertThat(out.get(0).pair().chosen()).containsExactly(11);
        assertThat(out.get(0).pair().rejected()).containsExactly(10);
        assertThat(out.get(0).pair().raterFlipped()).isTrue();
        assertThat(out.get(1).pair().chosen()).containsExactly(12);
        assertThat(out).extracting(TrainingPair::margin).containsExactly(0.5, 0.3, 0.1, 2.0);
    }

    @Test
    void weakestFractionFlipsTheLowestMeansOnly() {
        List<EncodedPair> pairs = List.of(pair("a", 1, 2), pair("b", 3, 4), pair("c", 5, 6), pair("d", 7, 8));
        List<PairStrength> strengths = List.of(new PairStrength(-0.5, 0, 4), new PairStrength(0.3, 0, 4),
                new PairStrength(-0.1, 0, 4), new PairStrength(2.0, 0, 4));
        List<TrainingPair> out = PreferenceRelabeling.prepare(pairs, strengths, RmMethod.parse("flip:0.25"));
        assertThat(out).extracting(TrainingPair::flipped).containsExactly(true, false, false, false);
        assertThat(out).extracting(TrainingPair::margin).containsOnly(0.0);
    }

    @Test
    void marginAloneKeepsLabelsAndScalesTheStrength() {
        List<EncodedPair> pairs = List.of(pair("a", 1, 2), pair("b", 3, 4));
        List<PairStrength> strengths = List.of(new PairStrength(-0.5, 0, 4), new PairStrength(0.3, 0, 4));
        List<TrainingPair> out = PreferenceRelabeling.prepare(pairs, strengths, RmMethod.parse("margin:2"));
        assertThat(out).extracting(TrainingPair::flipped).containsExactly(false, false);
        assertThat(out).extracting(TrainingPair::margin).containsExactly(-1.0, 0.6);
    }

    @Test
    void methodsThatNeedStrengthRefuseToRunWithout() {
        List<EncodedPair> pairs = List.of(pair("a", 1, 2));
        assertThatThrownBy(() -> PreferenceRelabeling.prepare(pairs, null, RmMethod.parse("flip")))
                .hasMessageContaining("needs one ensemble strength per pair");
        assertThat(PreferenceRelabeling.prepare(pairs, null, RmMethod.parse("smooth"))).hasSize(1);
    }

    @Test
    void methodNamesParseToSettings() {
        RmMethod m = RmMethod.parse("flip+smooth:0.2+margin+contrastive:0.3+meta:0.01");
        assertThat(m.flip()).isEqualTo(RmMethod.FlipMode.NEGATIVE_MEAN);
        assertThat(m.labelSmoothing()).isEqualTo(0.2);
        assertThat(m.adaptiveMargin()).isTrue();
        assertThat(m.contrastiveWeight()).isEqualTo(0.3);
        assertThat(m.metaStepSize()).isEqualTo(0.01);
        assertThat(RmMethod.parse("smooth").labelSmoothing()).isEqualTo(RmMethod.DEFAULT_SMOOTHING);
        assertThat(RmMethod.parse("bt").needsStrength()).isFalse();
        assertThatThrownBy(() -> RmMethod.parse("bt+dropout")).hasMessageContaining("unknown reward-model method part 'dropout'");
        assertThatThrownBy(() -> RmMethod.parse("smooth:0.7")).hasMessageContaining("labelSmoothing must be in [0, 0.5)");
        assertThatThrownBy(() -> RmMethod.parse("margin:x")).hasMessageContaining("'x' is not a number");
    }
}
