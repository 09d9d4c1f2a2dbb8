package io.streamrlhf.models.world;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class SimulatedRaterTest {

    private static final int DRAWS = 10_000;

    /** Four standard deviations of a binomial share p over n draws. */
    private static double fourSigma(double p, int n) {
        return 4 * Math.sqrt(p * (1 - p) / n);
    }

    @Test
    void preferenceProbabilityIsTheLogisticOfTheGoldGap() {
        SimulatedRater rater = new SimulatedRater(0.5, 0.0, 1);
        assertThat(rater.preferenceProbability(1.0, 1.0)).isCloseTo(0.5, within(1e-12));
        assertThat(rater.preferenceProbability(2.0, 1.5)).isCloseTo(1 / (1 + Math.exp(-1.0)), within(1e-12));
        assertThat(rater.preferenceProbability(0.0, 1.0)).isCloseTo(1 / (1 + Math.exp(2.0)), within(1e-12));
    }

    @Test
    void flipRateIsWithinFourSigma() {
        SimulatedRater rater = new SimulatedRater(0.5, 0.2, 42);
        int flipped = 0;
        for (int i = 0; i < DRAWS; i++) {
            if (rater.compare(1.0, 0.0).flipped()) {
                flipped++;
            }
        }
        assertThat((double) flipped / DRAWS).isCloseTo(0.2, within(fourSigma(0.2, DRAWS)));
    }

    @Test
    void unflippedChoicesFollowBradleyTerry() {
        SimulatedRater rater = new SimulatedRater(0.5, 0.0, 7);
        for (double gap : new double[] {0.0, 0.3, 1.0}) {
            double p = rater.preferenceProbability(gap, 0.0);
            int a = 0;
            for (int i = 0; i < DRAWS; i++) {
                if (rater.compare(gap, 0.0).prefersA()) {
                    a++;
                }
            }
            assertThat((double) a / DRAWS).as("gap %s", gap).isCloseTo(p, within(fourSigma(p, DRAWS)));
        }
    }

    @Test
    void flippedLabelsMixTheProbability() {
        double f = 0.2;
        SimulatedRater rater = new SimulatedRater(0.5, f, 9);
        double p = rater.preferenceProbability(0.6, 0.0);        // σ(1.2) ≈ 0.769
        double observed = (1 - f) * p + f * (1 - p);             // ≈ 0.661
        int a = 0;
        for (int i = 0; i < DRAWS; i++) {
            SimulatedRater.Decision d = rater.compare(0.6, 0.0);
            assertThat(d.probability()).isEqualTo(p);
            if (d.prefersA()) {
                a++;
            }
        }
        assertThat((double) a / DRAWS).isCloseTo(observed, within(fourSigma(observed, DRAWS)));
        assertThat(observed).isLessThan(p - 0.05);   // the bound is tight enough to tell the two apart
    }

    @Test
    void bestOfTwoIsBradleyTerry() {
        SimulatedRater rater = new SimulatedRater(0.5, 0.0, 3);
        double p = rater.preferenceProbability(1.0, 0.5);
        int first = 0;
        for (int i = 0; i < DRAWS; i++) {
            if (rater.bestOf(List.of(1.0, 0.5)) == 0) {
                first++;
            }
        }
        assertThat((double) first / DRAWS).isCloseTo(p, within(fourSigma(p, DRAWS)));
    }

    @Test
    void sameSeedSameDecisions() {
        SimulatedRater a = new SimulatedRater(0.5, 0.3, 11);
        SimulatedRater b = new SimulatedRater(0.5, 0.3, 11);
        for (int i = 0; i < 200; i++) {
            assertThat(a.compare(0.1 * i % 3, 1.0)).isEqualTo(b.compare(0.1 * i % 3, 1.0));
        }
    }

    @Test
    void rejectsBadSettings() {
        assertThatThrownBy(() -> new SimulatedRater(0, 0.1, 1)).hasMessageContaining("tau");
        assertThatThrownBy(() -> new SimulatedRater(0.5, 1.5, 1)).hasMessageContaining("flipShare");
    }
}
