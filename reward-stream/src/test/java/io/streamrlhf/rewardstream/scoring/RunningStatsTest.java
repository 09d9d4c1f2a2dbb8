package io.streamrlhf.rewardstream.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RunningStatsTest {

    @Test
    void welfordMatchesTheTwoPassFormula() {
        double[] xs = {2, 4, 4, 4, 5, 5, 7, 9};
        RunningStats s = RunningStats.EMPTY;
        for (double x : xs) {
            s = s.add(x);
        }
        // the textbook example: mean 5, population variance 4, std 2
        assertThat(s.count()).isEqualTo(8);
        assertThat(s.mean()).isCloseTo(5.0, within(1e-12));
        assertThat(s.variance()).isCloseTo(4.0, within(1e-12));
        assertThat(s.std()).isCloseTo(2.0, within(1e-12));
    }

    @Test
    void stableForALargeOffset() {
        Random random = new Random(3);
        RunningStats s = RunningStats.EMPTY;
        double sum = 0;
        double[] xs = new double[10_000];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = 1e9 + random.nextGaussian();
            sum += xs[i];
            s = s.add(xs[i]);
        }
        double mean = sum / xs.length;
        double m2 = 0;
        for (double x : xs) {
            m2 += (x - mean) * (x - mean);
        }
        assertThat(s.variance()).isCloseTo(m2 / xs.length, within(1e-6));
    }

    @Test
    void roundTripsThroughBytesAndNormalises() {
        RunningStats s = RunningStats.EMPTY.add(1).add(3);
        assertThat(RunningStats.fromBytes(s.toBytes())).isEqualTo(s);
        assertThat(RunningStats.EMPTY.variance()).isZero();
        assertThat(RunningStats.EMPTY.add(7).variance()).isZero();
        NormalizationSettings n = new NormalizationSettings(true, 0.5, 1e-8);
        assertThat(n.normalise(3, s)).as("(3-2)/1 clipped to 0.5").isEqualTo(0.5);
        assertThat(new NormalizationSettings(true, 0, 1e-8).normalise(3, s)).isCloseTo(1.0, within(1e-7));
        assertThat(NormalizationSettings.OFF.normalise(3, s)).isEqualTo(3.0);
        assertThat(new NormalizationSettings(true, 5, 1e-8).normalise(7, RunningStats.EMPTY.add(7))).isZero();
    }

    @Test
    void mergeEqualsAddingEveryScoreInOrder() {
        Random random = new Random(11);
        RunningStats left = RunningStats.EMPTY;
        RunningStats right = RunningStats.EMPTY;
        RunningStats all = RunningStats.EMPTY;
        for (int i = 0; i < 500; i++) {
            double x = 50 + 10 * random.nextGaussian();
            all = all.add(x);
            if (i % 3 == 0) {
                left = left.add(x);
            } else {
                right = right.add(x);
            }
        }
        RunningStats merged = left.merge(right);
        assertThat(merged.count()).isEqualTo(500);
        assertThat(merged.mean()).isCloseTo(all.mean(), within(1e-9));
        assertThat(merged.m2()).isCloseTo(all.m2(), within(1e-6));
        assertThat(right.merge(left).m2()).as("symmetric").isCloseTo(merged.m2(), within(1e-6));
        assertThat(left.merge(RunningStats.EMPTY)).isEqualTo(left);
        assertThat(RunningStats.EMPTY.merge(right)).isEqualTo(right);
        // by hand: {1, 3} and {10, 20}: mean 8.5, m2 = 2 + 50 + 7.5^2 * 2 * 2 / 4 = 108.25 + ... = 221
        RunningStats small = RunningStats.EMPTY.add(1).add(3).merge(RunningStats.EMPTY.add(10).add(20));
        assertThat(small.mean()).isCloseTo(8.5, within(1e-12));
        assertThat(small.m2()).isCloseTo(221.0, within(1e-12));
    }

    @Test
    void normalizationStateRoundTripsItsOwnStatisticsAndCombinesTheOthers() {
        NormalizationState own = new NormalizationState(java.util.Map.of("a", RunningStats.EMPTY.add(1).add(3),
                "b", RunningStats.EMPTY.add(5)), 3);
        NormalizationState back = NormalizationState.fromBytes(own.toBytes());
        assertThat(back.version()).isEqualTo(3);
        assertThat(back.all()).isEqualTo(own.all());
        NormalizationState withOthers = new NormalizationState(own.all(), 3,
                java.util.Map.of("a", RunningStats.EMPTY.add(10).add(20), "c", RunningStats.EMPTY.add(2)), 6);
        assertThat(withOthers.combined("a").count()).isEqualTo(4);
        assertThat(withOthers.combined("a").m2()).isCloseTo(221.0, within(1e-12));
        assertThat(withOthers.get("a").count()).as("own only").isEqualTo(2);
        assertThat(withOthers.combined("c").count()).isEqualTo(1);
        assertThat(withOthers.combinedVersion()).isEqualTo(9);
        assertThat(withOthers.allCombined()).containsOnlyKeys("a", "b", "c");
        assertThat(NormalizationState.fromBytes(withOthers.toBytes()).all()).as("others are not persisted")
                .isEqualTo(own.all());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> NormalizationState.fromBytes(new byte[] {9}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("format 9");
    }
}
