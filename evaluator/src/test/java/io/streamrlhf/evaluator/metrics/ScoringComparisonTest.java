package io.streamrlhf.evaluator.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ScoringComparisonTest {

    @Test
    void spearmanWithoutTiesIsOneMinusSixSumOfSquaredRankDifferences() {
        // Rank differences -1, 1, -1, 1, 0: 1 - 6 * 4 / (5 * 24) = 0.8.
        assertThat(ScoringComparison.spearman(new double[] {1, 2, 3, 4, 5}, new double[] {2, 1, 4, 3, 5}))
                .isCloseTo(0.8, within(1e-12));
        // Only the order counts: any increasing transform gives 1, any decreasing one -1.
        assertThat(ScoringComparison.spearman(new double[] {0.1, 5, 7, 100}, new double[] {-3, 0, 0.5, 2}))
                .isCloseTo(1.0, within(1e-12));
        assertThat(ScoringComparison.spearman(new double[] {0.1, 5, 7, 100}, new double[] {9, 4, 1, -8}))
                .isCloseTo(-1.0, within(1e-12));
    }

    @Test
    void tiesShareTheirMeanRank() {
        assertThat(ScoringComparison.ranks(new double[] {3, 1, 2, 2})).containsExactly(4, 1, 2.5, 2.5);
        // Ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): covariance 4.5, variances 4.5 and 5, so 4.5 / sqrt(22.5).
        assertThat(ScoringComparison.spearman(new double[] {1, 2, 2, 3}, new double[] {1, 2, 3, 4}))
                .isCloseTo(3 / Math.sqrt(10), within(1e-12));
    }

    @Test
    void spearmanIsUndefinedForOneValueOrNoSpread() {
        assertThat(ScoringComparison.spearman(new double[] {1}, new double[] {2})).isNaN();
        assertThat(ScoringComparison.spearman(new double[] {1, 1, 1}, new double[] {1, 2, 3})).isNaN();
        assertThatThrownBy(() -> ScoringComparison.spearman(new double[] {1, 2}, new double[] {1}))
                .hasMessageContaining("2 and 1");
    }

    /**
     * Prompt p: first scores a=1, b=2, c=3; second scores a=1, b=3, c=2. Pairs (a,b) and (a,c) agree, (b,c) does not:
     * 2/3. Prompt q: first x=5, y=5 (a tie, not judged), second x=1, y=2. z is only in the first, w only in the
     * second, and b comes twice in the first (the last, 2, counts). The first side has versions rm@v1 (a, b, x, y,
     * z) and rm@v2 (c); the second rm@v3 throughout.
     */
    @Test
    void agreementCountsSamePromptPairsOrderedAlikeAndTablesSplitByVersion() {
        ScoringComparison c = new ScoringComparison.Accumulator()
                .add(0, "a", "p", 1, "rm@v1").add(0, "b", "p", 9, "rm@v1").add(0, "b", "p", 2, "rm@v1")
                .add(0, "c", "p", 3, "rm@v2").add(0, "x", "q", 5, "rm@v1").add(0, "y", "q", 5, "rm@v1")
                .add(0, "z", "q", 7, "rm@v1")
                .add(1, "a", "p", 1, "rm@v3").add(1, "b", "p", 3, "rm@v3").add(1, "c", "p", 2, "rm@v3")
                .add(1, "x", "q", 1, "rm@v3").add(1, "y", "q", 2, "rm@v3").add(1, "w", "q", 0, "rm@v3")
                .build();

        assertThat(c.joined()).isEqualTo(5);
        assertThat(c.onlyFirst()).isEqualTo(1);
        assertThat(c.onlySecond()).isEqualTo(1);
        assertThat(c.duplicates()).isEqualTo(1);
        assertThat(c.agreement()).isEqualTo(new Accuracy(2, 3));
        assertThat(c.tiedPairs()).isEqualTo(1);
        // Joined rewards: first (1, 2, 3, 5, 5), second (1, 3, 2, 1, 2). Mean 16/5 and 9/5.
        assertThat(c.rewardMeanFirst()).isCloseTo(3.2, within(1e-12));
        assertThat(c.rewardMeanSecond()).isCloseTo(1.8, within(1e-12));
        // Ranks (1, 2, 3, 4.5, 4.5) and (1.5, 5, 3.5, 1.5, 3.5): co-moments -0.5, 9.5 and 9.
        assertThat(c.spearman()).isCloseTo(-0.5 / Math.sqrt(9.5 * 9), within(1e-12));

        assertThat(c.first()).containsExactly(
                // rm@v1 on both ends: (a, b) agrees; (x, y) is tied.
                new ScoringComparison.VersionRow("rm@v1", 5, 4, (1 + 2 + 5 + 5 + 7) / 5.0, new Accuracy(1, 1)),
                new ScoringComparison.VersionRow("rm@v2", 1, 1, 3.0, new Accuracy(0, 0)));
        assertThat(c.second()).containsExactly(
                new ScoringComparison.VersionRow("rm@v3", 6, 5, 9 / 6.0, new Accuracy(2, 3)));
    }

    @Test
    void aNonFiniteRewardIsRefusedByName() {
        assertThatThrownBy(() -> new ScoringComparison.Accumulator().add(0, "g7", "p", Double.NaN, "rm"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("g7");
    }
}
