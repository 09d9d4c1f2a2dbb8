package io.streamrlhf.learner.ppo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.streamrlhf.learner.ppo.PpoConfig.Estimator;
import io.streamrlhf.models.engine.ModelRuntime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every formula of {@link PpoUpdate} against values worked by hand (the arithmetic is in the comments). */
class PpoMathTest {

    private static NDManager manager;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void stop() {
        manager.close();
    }

    @Test
    void diagnosticsMatchHandValuesAndSkipPadding() {
        // log r = ln 1.5, ln 0.9, 0 (padding, ignored), ln 1.1; clip 0.2.
        float[] logratio = {(float) Math.log(1.5), (float) Math.log(0.9), 5f, (float) Math.log(1.1)};
        float[] mask = {1, 1, 0, 1};
        java.util.Map<String, Double> out = new java.util.LinkedHashMap<>();
        PpoMath.diagnostics(logratio, mask, 3f, 0.2, out);
        // k3: ((0.5 − ln 1.5) + (−0.1 − ln 0.9) + (0.1 − ln 1.1)) / 3
        double k3 = ((0.5 - Math.log(1.5)) + (-0.1 - Math.log(0.9)) + (0.1 - Math.log(1.1))) / 3;
        assertThat(out.get("losses/approx_kl")).isCloseTo(k3, within(1e-6));
        assertThat(out.get("losses/old_approx_kl")).isCloseTo(-(Math.log(1.5) + Math.log(0.9) + Math.log(1.1)) / 3,
                within(1e-6));
        assertThat(out.get("losses/clipfrac")).isCloseTo(1.0 / 3, within(1e-9));  // only 1.5 is beyond 1 ± 0.2
        assertThat(out.get("ppo/ratio_mean")).isCloseTo((1.5 + 0.9 + 1.1) / 3, within(1e-6));
        assertThat(out.get("ppo/ratio_max_dev")).isCloseTo(0.5, within(1e-6));
    }

    @Test
    void gaeWithGammaOneMatchesHandValues() {
        double[] rewards = {0.1, -0.2, 1.0};
        double[] values = {0.5, 0.4, 0.3};
        double[] adv = new double[3];
        double[] ret = new double[3];
        PpoMath.gae(rewards, values, 1.0, 0.95, adv, ret);
        // t2: δ = 1.0 + 0 − 0.3 = 0.7                      A2 = 0.7
        // t1: δ = −0.2 + 0.3 − 0.4 = −0.3                  A1 = −0.3 + 0.95·0.7 = 0.365
        // t0: δ = 0.1 + 0.4 − 0.5 = 0.0                    A0 = 0.95·0.365 = 0.34675
        assertThat(adv).containsExactly(new double[] {0.34675, 0.365, 0.7}, within(1e-12));
        assertThat(ret).containsExactly(new double[] {0.84675, 0.765, 1.0}, within(1e-12));
    }

    @Test
    void gaeWithDiscountMatchesHandValues() {
        double[] adv = new double[3];
        double[] ret = new double[3];
        PpoMath.gae(new double[] {0.1, -0.2, 1.0}, new double[] {0.5, 0.4, 0.3}, 0.9, 0.5, adv, ret);
        // t2: δ = 0.7, A2 = 0.7; t1: δ = −0.2 + 0.9·0.3 − 0.4 = −0.33, A1 = −0.33 + 0.45·0.7 = −0.015
        // t0: δ = 0.1 + 0.9·0.4 − 0.5 = −0.04, A0 = −0.04 + 0.45·(−0.015) = −0.04675
        assertThat(adv).containsExactly(new double[] {-0.04675, -0.015, 0.7}, within(1e-12));
        assertThat(ret).containsExactly(new double[] {0.45325, 0.385, 1.0}, within(1e-12));
    }

    @Test
    void gaeWithLambdaZeroIsOneStepTd() {
        double[] adv = new double[2];
        double[] ret = new double[2];
        PpoMath.gae(new double[] {0.0, 1.0}, new double[] {0.2, 0.6}, 1.0, 0.0, adv, ret);
        // A0 = 0 + 0.6 − 0.2 = 0.4, A1 = 1 − 0.6 = 0.4; returns = one-step targets 0.6 and 1.0
        assertThat(adv).containsExactly(new double[] {0.4, 0.4}, within(1e-12));
        assertThat(ret).containsExactly(new double[] {0.6, 1.0}, within(1e-12));
    }

    @Test
    void klShapedRewardsPenaliseEachTokenAndAddTheScoreAtTheEnd() {
        double[] r = PpoMath.shapeRewards(new double[] {-1.0, -2.0, -0.5}, new double[] {-1.5, -1.0, -0.5}, 0.1, 2.0);
        // r0 = −0.1·(−1 + 1.5) = −0.05; r1 = −0.1·(−2 + 1) = 0.1; r2 = −0.1·0 + 2 = 2
        assertThat(r).containsExactly(new double[] {-0.05, 0.1, 2.0}, within(1e-12));
    }

    @Test
    void grpoAndRlooMatchHandValues() {
        double[] scores = {1, 2, 3, 4, 0, 5};
        String[] groups = {"a", "a", "a", "b", "b", "c"};
        // group a: mean 2, sample std 1 → −1, 0, 1; group b: mean 2, std √8 → ±1/√2; c alone → 0
        assertThat(PpoMath.groupAdvantages(Estimator.GRPO, scores, groups)).containsExactly(
                new double[] {-1, 0, 1, Math.sqrt(0.5), -Math.sqrt(0.5), 0}, within(1e-7));
        // RLOO: 1 − (2+3)/2 = −1.5, 2 − 2 = 0, 3 − 1.5 = 1.5; 4 − 0 = 4, 0 − 4 = −4; alone → 0
        assertThat(PpoMath.groupAdvantages(Estimator.RLOO, scores, groups)).containsExactly(
                new double[] {-1.5, 0, 1.5, 4, -4, 0}, within(1e-12));
    }

    @Test
    void truncatedImportanceWeight() {
        // π_prox/π_b = e^0.5 = 1.6487 → truncated at 1.2; e^−0.5 = 0.6065 passes unchanged
        assertThat(PpoMath.truncatedWeight(-1.0, -1.5, 1.2)).isEqualTo(1.2);
        assertThat(PpoMath.truncatedWeight(-1.5, -1.0, 1.2)).isCloseTo(0.6065306597, within(1e-9));
    }

    @Test
    void policyLossMatchesHandValues() {
        NDArray adv = manager.create(new float[] {1f, -1f, 2f, 5f});
        NDArray ratio = manager.create(new float[] {1.5f, 0.5f, 1.1f, 9f});
        NDArray w = manager.create(new float[] {1f, 1f, 0.5f, 1f});
        NDArray mask = manager.create(new float[] {1f, 1f, 1f, 0f});
        // t0: max(−1.5, −1.2) = −1.2; t1: max(0.5, 0.8) = 0.8; t2: max(−2.2, −2.2)·0.5 = −1.1; t3 masked
        // mean over 3 = (−1.2 + 0.8 − 1.1) / 3 = −0.5
        assertThat(PpoMath.policyLoss(adv, ratio, w, mask, 3f, 0.2).getFloat()).isCloseTo(-0.5f, within(1e-6f));
    }

    @Test
    void policyClippingAtItsEdges() {
        NDArray one = manager.create(new float[] {1f});
        // A > 0: above 1 + ε the objective is clipped (−A·1.2); below 1 − ε it is not (−A·0.7)
        assertThat(loss(2f, 1.3f, one)).isCloseTo(-2.4f, within(1e-6f));
        assertThat(loss(2f, 0.7f, one)).isCloseTo(-1.4f, within(1e-6f));
        // A < 0: below 1 − ε clipped (|A|·0.8); above 1 + ε not (|A|·1.3)
        assertThat(loss(-2f, 0.7f, one)).isCloseTo(1.6f, within(1e-6f));
        assertThat(loss(-2f, 1.3f, one)).isCloseTo(2.6f, within(1e-6f));
        // exactly at the edge both branches agree
        assertThat(loss(2f, 1.2f, one)).isCloseTo(-2.4f, within(1e-6f));
        // the gradient vanishes where the clip is active and is −A inside the trust region
        assertThat(ratioGradient(2f, 1.3f)).isCloseTo(0f, within(1e-7f));
        assertThat(ratioGradient(2f, 1.1f)).isCloseTo(-2f, within(1e-6f));
        assertThat(ratioGradient(-2f, 0.7f)).isCloseTo(0f, within(1e-7f));
    }

    private static float loss(float a, float r, NDArray one) {
        return PpoMath.policyLoss(manager.create(new float[] {a}), manager.create(new float[] {r}), one, one, 1f, 0.2)
                .getFloat();
    }

    private static float ratioGradient(float a, float r) {
        try (NDManager m = manager.newSubManager()) {
            NDArray ratio = m.create(new float[] {r});
            ratio.setRequiresGradient(true);
            NDArray one = m.create(new float[] {1f});
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(PpoMath.policyLoss(m.create(new float[] {a}), ratio, one, one, 1f, 0.2));
            }
            return ratio.getGradient().getFloat();
        }
    }

    @Test
    void valueLossMatchesHandValuesAndClipsAtTheEdge() {
        NDArray newV = manager.create(new float[] {1.0f, 0.0f, 0.6f});
        NDArray oldV = manager.create(new float[] {0.5f, 0.5f, 0.5f});
        NDArray ret = manager.create(new float[] {2.0f, 0.0f, 1.0f});
        NDArray mask = manager.create(new float[] {1f, 1f, 0f});
        // t0: vf1 = 1, clipped 0.5 + 0.2 = 0.7 → 1.69, max 1.69; t1: vf1 = 0, clipped 0.3 → 0.09, max 0.09
        // 0.5 · (1.69 + 0.09) / 2 = 0.445
        assertThat(PpoMath.valueLoss(newV, oldV, ret, mask, 2f, 0.2).getFloat()).isCloseTo(0.445f, within(1e-6f));
        // clip off: 0.5 · (1 + 0) / 2 = 0.25
        assertThat(PpoMath.valueLoss(newV, oldV, ret, mask, 2f, 0.0).getFloat()).isCloseTo(0.25f, within(1e-6f));
        // a move inside the clip range (0.1 < 0.2) is not clipped: 0.5 · (0.6 − 1)² = 0.08
        NDArray m3 = manager.create(new float[] {0f, 0f, 1f});
        assertThat(PpoMath.valueLoss(newV, oldV, ret, m3, 1f, 0.2).getFloat()).isCloseTo(0.08f, within(1e-6f));
    }

    @Test
    void entropyAndK3MatchHandValues() {
        float q = (float) Math.log(0.25);
        NDArray logp = manager.create(new float[] {q, q, q, q, (float) Math.log(0.7), (float) Math.log(0.1),
            (float) Math.log(0.1), (float) Math.log(0.1)}, new ai.djl.ndarray.types.Shape(1, 2, 4));
        NDArray mask = manager.create(new float[] {1f, 1f}, new ai.djl.ndarray.types.Shape(1, 2));
        // ln 4 = 1.386294; −(0.7 ln 0.7 + 0.3 ln 0.1) = 0.940448; mean 1.163371
        assertThat(PpoMath.entropy(logp, mask, 2f).getFloat()).isCloseTo(1.163371f, within(1e-5f));
        // log r = −2 − (−1) = −1: e^−1 + 1 − 1 = 0.367879
        NDArray k3 = PpoMath.klK3(manager.create(new float[] {-1f}), manager.create(new float[] {-2f}),
                manager.create(new float[] {1f}), 1f);
        assertThat(k3.getFloat()).isCloseTo(0.367879f, within(1e-6f));
    }

    @Test
    void whiteningAndExplainedVariance() {
        float[] adv = {1f, 2f, 3f, 100f};
        PpoMath.whiten(adv, new float[] {1f, 1f, 1f, 0f});
        // mean 2, sample std 1; the masked entry is left alone
        assertThat(adv).containsExactly(new float[] {-1f, 0f, 1f, 100f}, within(1e-6f));
        float[] mask = {1f, 1f, 1f};
        assertThat(PpoMath.explainedVariance(new float[] {1, 2, 3}, new float[] {1, 2, 3}, mask)).isEqualTo(1.0);
        assertThat(PpoMath.explainedVariance(new float[] {0, 0, 0}, new float[] {1, 2, 3}, mask))
                .isCloseTo(0.0, within(1e-12));
    }

    @Test
    void runningMomentsMergeBatches() {
        RunningMoments m = new RunningMoments();
        assertThat(m.std()).isEqualTo(1.0);
        m.update(new double[] {1, 2, 3});
        m.update(new double[] {4});
        // 1..4: mean 2.5, population variance 1.25
        assertThat(m.mean()).isCloseTo(2.5, within(1e-12));
        assertThat(m.std()).isCloseTo(Math.sqrt(1.25), within(1e-12));
        RunningMoments copy = new RunningMoments(m.state());
        assertThat(copy.std()).isEqualTo(m.std());
    }
}
