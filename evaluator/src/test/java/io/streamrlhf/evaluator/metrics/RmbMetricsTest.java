package io.streamrlhf.evaluator.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.streamrlhf.evaluator.RmbFixture;
import io.streamrlhf.evaluator.rmb.RmbGoal;
import io.streamrlhf.evaluator.rmb.RmbItem;
import io.streamrlhf.evaluator.rmb.RmbReader;
import io.streamrlhf.evaluator.rmb.RmbSet;
import io.streamrlhf.rewardstream.scoring.Aggregation;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/**
 * RMB metrics on the project's fixture against figures worked out by hand. Under {@code rule:length} (code points of
 * the answer) the verdicts are:
 *
 * <pre>
 * pairwise  p1 20>2 right   p2 3<6 wrong   p3 4=4 tie, wrong   p4 17>2 right (3 turns)   [Helpfulness/Chat]
 *           p5 27>1 right                                                                 [Helpfulness/Code]
 *           p6 23<44 wrong  p7 5<6 wrong (emoji: 5 code points, 7 UTF-16 units)  p8 26>3 right   [Harmlessness]
 * bon       b1 23>{5,10} right  b2 3 vs {2,3} tie, wrong  b3 12>{1,2,3} right (5 turns)  [Helpfulness/Chat]
 *           b4 1<{2,3} wrong    b5 18>{2,4} right                                        [Harmlessness]
 * </pre>
 *
 * so pairwise 4/8, BoN 3/5, helpfulness pairwise 3/5, harmlessness pairwise 1/3, helpfulness BoN 2/3, harmlessness
 * BoN 1/2, overall (0.6 + 1/3 + 2/3 + 0.5) / 4 = 0.525.
 */
class RmbMetricsTest {
    private static final Offset<Double> EXACT = within(1e-12);

    private final List<RmbItem> items = RmbReader.read(RmbFixture.originalLayout()).items();

    @Test
    void lengthRuleMatchesTheHandComputedFigures() {
        RmbEvaluation eval = evaluate(List.of("rule:length"));

        assertThat(eval.voters()).containsExactly("rule-length");
        assertThat(eval.majority()).isNull();
        assertThat(eval.primaryName()).isEqualTo("rule-length");
        RmbMetrics m = eval.primary();
        assertThat(m.pairwise()).isEqualTo(new Accuracy(4, 8));
        assertThat(m.bon()).isEqualTo(new Accuracy(3, 5));
        assertThat(m.of(RmbGoal.HELPFULNESS, RmbSet.PAIRWISE)).isEqualTo(new Accuracy(3, 5));
        assertThat(m.of(RmbGoal.HARMLESSNESS, RmbSet.PAIRWISE)).isEqualTo(new Accuracy(1, 3));
        assertThat(m.of(RmbGoal.HELPFULNESS, RmbSet.BEST_OF_N)).isEqualTo(new Accuracy(2, 3));
        assertThat(m.of(RmbGoal.HARMLESSNESS, RmbSet.BEST_OF_N)).isEqualTo(new Accuracy(1, 2));
        assertThat(m.overall()).isCloseTo((0.6 + 1.0 / 3 + 2.0 / 3 + 0.5) / 4, EXACT).isCloseTo(0.525, EXACT);
        assertThat(m.byScenario()).extracting(s -> s.set().label() + " " + s.categoryPath() + " " + s.accuracy().correct()
                        + "/" + s.accuracy().n())
                .containsExactly(
                        "pairwise Pairwise_set/Harmlessness/S1 1/3",
                        "pairwise Pairwise_set/Helpfulness/Chat/Small Talk 2/4",
                        "pairwise Pairwise_set/Helpfulness/Code/Documentation 1/1",
                        "bon BoN_set/Harmlessness/S1 1/2",
                        "bon BoN_set/Helpfulness/Chat/Small Talk 2/3");
        // Ties are wrong: p3 (4 = 4) and b2 (best 3 ties a loser of 3).
        assertThat(verdict(eval, "pairwise/p3")).isFalse();
        assertThat(verdict(eval, "bon/b2")).isFalse();
        ScoredItem b2 = eval.items().stream().filter(s -> s.item().key().equals("bon/b2")).findFirst().orElseThrow();
        assertThat(b2.scores().get(0)).containsExactly(3.0, 2.0, 3.0);
    }

    /**
     * Three voters: length; length negated (prefers the shorter: right on p2, p6, p7 and b4); and terminal punctuation
     * (right where only the preferred answer ends in . ! or ?: p1, p4, b5). Majority, by hand:
     * p1 R,W,R=R  p2 W,R,W=W  p3 W,W,W=W  p4 R,W,R=R  p5 R,W,W=W  p6 W,R,W=W  p7 W,R,W=W  p8 R,W,W=W
     * b1 R,W,W=W  b2 W,W,W=W  b3 R,W,W=W  b4 W,R,W=W  b5 R,W,R=R.
     */
    @Test
    void majorityVoteAcrossThreeRules() {
        RmbEvaluation eval = evaluate(List.of("rule:length", "rule:length;scale=-1;name=shorter",
                "rule:format;check=terminal-punctuation"));

        assertThat(eval.voters()).containsExactly("rule-length", "shorter", "rule-format-terminal-punctuation");
        assertThat(eval.bySource().get("shorter").pairwise()).isEqualTo(new Accuracy(3, 8));
        assertThat(eval.bySource().get("shorter").bon()).isEqualTo(new Accuracy(1, 5));
        assertThat(eval.bySource().get("rule-format-terminal-punctuation").pairwise()).isEqualTo(new Accuracy(2, 8));
        assertThat(eval.bySource().get("rule-format-terminal-punctuation").bon()).isEqualTo(new Accuracy(1, 5));

        assertThat(eval.primaryName()).isEqualTo("majority");
        RmbMetrics m = eval.majority();
        assertThat(m.pairwise()).isEqualTo(new Accuracy(2, 8));
        assertThat(m.bon()).isEqualTo(new Accuracy(1, 5));
        assertThat(m.of(RmbGoal.HELPFULNESS, RmbSet.PAIRWISE)).isEqualTo(new Accuracy(2, 5));
        assertThat(m.of(RmbGoal.HARMLESSNESS, RmbSet.PAIRWISE)).isEqualTo(new Accuracy(0, 3));
        assertThat(m.of(RmbGoal.HELPFULNESS, RmbSet.BEST_OF_N)).isEqualTo(new Accuracy(0, 3));
        assertThat(m.of(RmbGoal.HARMLESSNESS, RmbSet.BEST_OF_N)).isEqualTo(new Accuracy(1, 2));
        assertThat(m.overall()).isCloseTo((0.4 + 0 + 0 + 0.5) / 4, EXACT);
    }

    @Test
    void batchSizeDoesNotChangeAnything() {
        try (RewardEnsemble ensemble = EvaluationSources.ensemble(EvaluationSources.parse(List.of("rule:length")),
                Aggregation.MEAN)) {
            RmbMetrics one = new RmbScorer(ensemble, 1).evaluate(items).primary();
            RmbMetrics many = new RmbScorer(ensemble, 100).evaluate(items).primary();
            assertThat(many).isEqualTo(one);
        }
    }

    @Test
    void theVerdictRuleIsStrictAndNanIsWrong() {
        assertThat(Verdicts.preferredStrictlyAbove(new double[] {2, 1})).isTrue();
        assertThat(Verdicts.preferredStrictlyAbove(new double[] {1, 1})).isFalse();
        assertThat(Verdicts.preferredStrictlyAbove(new double[] {3, 1, 2, 3})).isFalse();
        assertThat(Verdicts.preferredStrictlyAbove(new double[] {3, 1, 2, 2.999})).isTrue();
        assertThat(Verdicts.preferredStrictlyAbove(new double[] {Double.NaN, 1})).isFalse();
        assertThat(Verdicts.preferredStrictlyAbove(new double[] {2, Double.NaN})).isFalse();
        assertThat(Verdicts.majority(new boolean[] {true, false})).isFalse();
        assertThat(Verdicts.majority(new boolean[] {true, true, false})).isTrue();
        assertThat(Verdicts.majority(new boolean[] {true})).isTrue();
    }

    @Test
    void overallIsTheMeanOfTheGoalSetFiguresPresent() {
        List<RmbItem> pairwiseOnly = items.stream().filter(i -> i.set() == RmbSet.PAIRWISE).toList();
        boolean[] correct = {true, false, false, true, true, false, false, true};
        RmbMetrics m = RmbMetrics.of(pairwiseOnly, correct);
        assertThat(m.bon()).isEqualTo(new Accuracy(0, 0));
        assertThat(m.bon().accuracy()).isNaN();
        assertThat(m.overall()).isCloseTo((3.0 / 5 + 1.0 / 3) / 2, EXACT);
        assertThat(RmbMetrics.of(List.of(), new boolean[0]).overall()).isNaN();
    }

    private RmbEvaluation evaluate(List<String> specs) {
        try (RewardEnsemble ensemble = EvaluationSources.ensemble(EvaluationSources.parse(specs), Aggregation.MEAN)) {
            return new RmbScorer(ensemble, 4).evaluate(items);
        }
    }

    private static boolean verdict(RmbEvaluation eval, String key) {
        return eval.items().stream().filter(s -> s.item().key().equals(key)).findFirst().orElseThrow().correct()[0];
    }
}
