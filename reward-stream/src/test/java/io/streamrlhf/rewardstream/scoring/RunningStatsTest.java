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
}
