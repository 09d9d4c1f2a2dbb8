package io.streamrlhf.evaluator.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ComparisonTest {

    @Test
    void policyRowsAreMeansByVersionWithUnscoredRecordsCountedButNotAveraged() {
        PolicyComparison c = new PolicyComparison.Accumulator()
                .add("p", 2, 4.0, Double.NaN, 10)
                .add("p", 1, 1.0, 0.5, 4).add("p", 1, 3.0, 1.5, 6).add("p", 1, Double.NaN, 1.0, 8)
                .add("a", 7, -1.0, Double.NaN, 2)
                .build();

        assertThat(c.rows()).extracting(r -> r.policyName() + "@" + r.policyVersion())
                .containsExactly("a@7", "p@1", "p@2");
        PolicyComparison.Row p1 = c.rows().get(1);
        assertThat(p1.n()).isEqualTo(3);
        assertThat(p1.rewardMean()).isEqualTo(2.0);
        assertThat(p1.rewardStd()).isEqualTo(1.0, within(1e-12));
        assertThat(p1.goldMean()).isEqualTo(1.0);
        assertThat(p1.responseTokensMean()).isEqualTo(6.0);
        assertThat(c.rows().get(2).goldMean()).isNaN();
    }

    /**
     * Prompt q1: gold g1=1 < g2=2 < g3=3, prompt q2: h1=0 = h2=0 (equal gold, no pair). Shared pairs: (g2>g1),
     * (g3>g1), (g3>g2). rm v1 scores g 1,2,3: all three right. rm v2 scores g 3,2,1: none right. A rule that ties g2
     * and g3 gets (g2>g1) and (g3>g1) right, (g3>g2) wrong: 2/3. A scorer missing g3 would shrink the shared set, so
     * every row here scores all of them.
     */
    @Test
    void rewardModelsAreComparedOnTheSamePairsAgainstGold() {
        RmComparison.Accumulator acc = new RmComparison.Accumulator();
        acc.generation("q1", "g1", 1).generation("q1", "g2", 2).generation("q1", "g3", 3)
                .generation("q2", "h1", 0).generation("q2", "h2", 0);
        String[] ids = {"g1", "g2", "g3", "h1", "h2"};
        double[] v1 = {1, 2, 3, 0, 0};
        double[] v2 = {3, 2, 1, 0, 0};
        double[] rule = {1, 5, 5, 9, 9};
        for (int i = 0; i < ids.length; i++) {
            acc.score("rm", 1L, ids[i], v1[i]).score("rm", 2L, ids[i], v2[i]).score("len", null, ids[i], rule[i]);
        }
        RmComparison c = acc.build();

        assertThat(c.sharedPairs()).isEqualTo(3);
        assertThat(c.rows()).extracting(RmComparison.Row::label).containsExactly("rm@v1", "rm@v2", "len");
        assertThat(c.rows().get(0).goldPairs()).isEqualTo(new Accuracy(3, 3));
        assertThat(c.rows().get(1).goldPairs()).isEqualTo(new Accuracy(0, 3));
        assertThat(c.rows().get(2).goldPairs()).isEqualTo(new Accuracy(2, 3));
        assertThat(c.rows().get(2).scoreMean()).isEqualTo((1 + 5 + 5 + 9 + 9) / 5.0);
        assertThat(c.rows().get(0).n()).isEqualTo(5);
    }

    @Test
    void withoutGoldThereAreNoPairsButScoresStillCompare() {
        RmComparison c = new RmComparison.Accumulator().generation("q", "g1", Double.NaN)
                .score("a", null, "g1", 2.0).score("b", 3L, "g1", 4.0).build();
        assertThat(c.sharedPairs()).isZero();
        assertThat(c.rows()).extracting(RmComparison.Row::scoreMean).containsExactly(2.0, 4.0);
        assertThat(c.rows().get(0).goldPairs().accuracy()).isNaN();
    }
}
