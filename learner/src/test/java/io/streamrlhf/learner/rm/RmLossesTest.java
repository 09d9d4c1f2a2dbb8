package io.streamrlhf.learner.rm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamrlhf.models.engine.ModelRuntime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The losses against values worked out by hand (log(1 + e^x) and σ evaluated to 6 digits):
 * Bradley–Terry, adaptive margin, label smoothing, SimCSE and MetaRM's difference objective.
 */
class RmLossesTest {

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
    void bradleyTerryIsMinusLogSigmoidOfTheDifference() {
        // −log σ(Δ) = log(1 + e^{−Δ}): Δ = 2 → 0.126928, Δ = −1 → 1.313262, Δ = 0 → log 2.
        float[] loss = RmLosses.preferenceLoss(manager.create(new float[] {2f, -1f, 0f}), null, 0).toFloatArray();
        assertThat(loss[0]).isCloseTo(0.126928f, within(1e-5f));
        assertThat(loss[1]).isCloseTo(1.313262f, within(1e-5f));
        assertThat(loss[2]).isCloseTo(0.693147f, within(1e-5f));
    }

    @Test
    void adaptiveMarginShiftsTheDifferenceByTheMargin() {
        // −log σ(Δ − m): (2 − 1) → log(1 + e^{−1}) = 0.313262; (−1 + 0.5) and (0 − 0.5) → log(1 + e^{0.5}) = 0.974077.
        NDArray diff = manager.create(new float[] {2f, -1f, 0f});
        NDArray margin = manager.create(new float[] {1f, -0.5f, 0.5f});
        float[] loss = RmLosses.preferenceLoss(diff, margin, 0).toFloatArray();
        assertThat(loss[0]).isCloseTo(0.313262f, within(1e-5f));
        assertThat(loss[1]).isCloseTo(0.974077f, within(1e-5f));
        assertThat(loss[2]).isCloseTo(0.974077f, within(1e-5f));
    }

    @Test
    void labelSmoothingMixesInTheOppositeLabel() {
        // 0.9·log(1 + e^{−Δ}) + 0.1·log(1 + e^{Δ}) = log(1 + e^{−Δ}) + 0.1·Δ.
        float[] loss = RmLosses.preferenceLoss(manager.create(new float[] {2f, -1f, 0f}), null, 0.1).toFloatArray();
        assertThat(loss[0]).isCloseTo(0.326928f, within(1e-5f));
        assertThat(loss[1]).isCloseTo(1.213262f, within(1e-5f));
        assertThat(loss[2]).isCloseTo(0.693147f, within(1e-5f));
    }

    @Test
    void logSigmoidStaysFiniteForLargeInputs() {
        float[] out = RmLosses.logSigmoid(manager.create(new float[] {-200f, 200f})).toFloatArray();
        assertThat(out[0]).isCloseTo(-200f, within(1e-3f));
        assertThat(out[1]).isCloseTo(0f, within(1e-6f));
    }

    @Test
    void simCseOnOrthogonalUnitViewsIsTheSoftmaxOfTheIdentity() {
        // logits = I/τ; each row: −log(e^{1/τ} / (e^{1/τ} + 1)) = log(1 + e^{−1/τ}).
        NDArray eye = manager.create(new float[] {1, 0, 0, 1}, new Shape(2, 2));
        assertThat(RmLosses.simCse(eye, eye, 1.0).getFloat()).isCloseTo(0.313262f, within(1e-5f));
        assertThat(RmLosses.simCse(eye, eye, 0.5).getFloat()).isCloseTo(0.126928f, within(1e-5f));
    }

    @Test
    void simCseNormalisesRowsAndAveragesOverThem() {
        // z1 = [[3,4],[1,0]] → [[0.6,0.8],[1,0]]; z2 = [[0,2],[1,1]] → [[0,1],[0.7071,0.7071]].
        // cos = [[0.8, 0.98995], [0, 0.70711]]; row 0: log(1 + e^{0.98995 − 0.8}) = 0.792620,
        // row 1: log(1 + e^{−0.70711}) = 0.400839; mean 0.596729.
        NDArray z1 = manager.create(new float[] {3, 4, 1, 0}, new Shape(2, 2));
        NDArray z2 = manager.create(new float[] {0, 2, 1, 1}, new Shape(2, 2));
        assertThat(RmLosses.simCse(z1, z2, 1.0).getFloat()).isCloseTo(0.596729f, within(1e-5f));
    }

    @Test
    void metaDifferenceAveragesSigmoidOfAbsoluteDifferencesOffTheDiagonal() {
        // scores 0, 1, 3: |Δ| = 1, 3, 2 → (σ(1) + σ(3) + σ(2)) / 3 = (0.731059 + 0.952574 + 0.880797) / 3.
        NDArray scores = manager.create(new float[] {0, 1, 3}, new Shape(1, 3));
        assertThat(RmLosses.metaDifference(scores).getFloat()).isCloseTo(0.854810f, within(1e-5f));
        // Equal scores are indistinguishable: σ(0) = 0.5 everywhere.
        NDArray equal = manager.create(new float[] {2, 2, 5, 5}, new Shape(2, 2));
        assertThat(RmLosses.metaDifference(equal).getFloat()).isCloseTo(0.5f, within(1e-6f));
    }
}
