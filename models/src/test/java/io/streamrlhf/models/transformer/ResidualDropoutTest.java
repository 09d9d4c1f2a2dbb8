package io.streamrlhf.models.transformer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.reward.RewardBlock;
import io.streamrlhf.models.reward.TransformerRewardModel;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The transformer layer's optional residual dropout: off by default (training and inference forwards identical),
 * never applied at inference, and, when on, exactly {@code x + mask ⊙ branch} for each branch, with the masks PyTorch
 * draws in order (attention output first, then MLP output), reproduced here by re-seeding its generator.
 */
class ResidualDropoutTest {

    private static final int B = 2;
    private static final int T = 5;
    private static final int D = 8;
    private static NDManager manager;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
        manager = ModelRuntime.init().newBaseManager();
    }

    @AfterAll
    static void stop() {
        manager.close();
    }

    private static TransformerLayer layer(float rate) {
        TransformerLayer layer = TransformerLayer.builder().setDModel(D).setHeads(2).optResidualDropout(rate).build();
        // A large init so that both branches move the residual stream visibly.
        layer.setInitializer(new SeededInitializer(5, 0.5), Parameter.Type.WEIGHT);
        layer.initialize(manager, DataType.FLOAT32, new Shape(B, T, D), new Shape(1, 1, T, T));
        return layer;
    }

    private static NDArray input(NDManager m) {
        float[] x = new float[B * T * D];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(0.37 * i + 0.1);
        }
        return m.create(x, new Shape(B, T, D));  // (B, T, D)
    }

    private static float[] forward(TransformerLayer layer, NDManager m, NDArray x, boolean training) {
        NDArray bias = TransformerTrunk.causalBias(m, T).reshape(1, 1, T, T);  // (1, 1, T, T)
        return layer.forward(new ParameterStore(m, false), new NDList(x, bias), training).singletonOrThrow()
                .toFloatArray();  // (B, T, D)
    }

    /** The masks PyTorch draws for two dropouts of (B, T, D) after seeding with {@code seed}. */
    private static float[][] masks(NDManager m, long seed, float rate) {
        ModelRuntime.seed(seed);
        NDArray ones = m.ones(new Shape(B, T, D));
        float[] first = Dropout.dropout(ones, rate, true).singletonOrThrow().toFloatArray();
        float[] second = Dropout.dropout(ones, rate, true).singletonOrThrow().toFloatArray();
        return new float[][] {first, second};
    }

    private static void zero(TransformerLayer layer, String... names) {
        for (String name : names) {
            NDArray w = layer.getParameters().get(name).getArray();
            w.set(new float[Math.toIntExact(w.size())]);
        }
    }

    @Test
    void offByDefaultSoTrainingAndInferenceForwardsAreIdentical() {
        TransformerLayer layer = layer(0f);
        assertThat(layer.residualDropout()).isZero();
        try (NDManager m = manager.newSubManager()) {
            NDArray x = input(m);
            assertThat(forward(layer, m, x, true)).containsExactly(forward(layer, m, x, false));
        }
    }

    @Test
    void inferenceNeverDropsAndTrainingForwardsDrawNewMasks() {
        TransformerLayer plain = layer(0f);
        TransformerLayer dropping = layer(0.5f);  // same seed, same weights
        try (NDManager m = manager.newSubManager()) {
            NDArray x = input(m);
            float[] reference = forward(plain, m, x, false);
            assertThat(forward(dropping, m, x, false)).containsExactly(reference);
            float[] a = forward(dropping, m, x, true);
            float[] b = forward(dropping, m, x, true);
            assertThat(a).isNotEqualTo(reference);
            assertThat(a).isNotEqualTo(b);
        }
    }

    @Test
    void attentionBranchIsDroppedWithTheFirstMask() {
        float rate = 0.5f;
        TransformerLayer layer = layer(0f);
        zero(layer, "fc2_weight", "fc2_bias");  // the MLP adds nothing: out = x + attention branch
        try (NDManager m = manager.newSubManager()) {
            NDArray x = input(m);
            float[] xs = x.toFloatArray();
            float[] clean = forward(layer, m, x, true);
            float[][] mask = masks(m, 77, rate);
            layer.setResidualDropout(rate);
            ModelRuntime.seed(77);
            float[] dropped = forward(layer, m, x, true);
            assertDropped(xs, clean, mask[0], dropped, rate);
        }
    }

    @Test
    void mlpBranchIsDroppedWithTheSecondMask() {
        float rate = 0.3f;
        TransformerLayer layer = layer(0f);
        zero(layer, "proj_weight", "proj_bias");  // attention adds nothing: out = x + MLP branch of LN(x)
        try (NDManager m = manager.newSubManager()) {
            NDArray x = input(m);
            float[] xs = x.toFloatArray();
            float[] clean = forward(layer, m, x, true);
            float[][] mask = masks(m, 78, rate);
            layer.setResidualDropout(rate);
            ModelRuntime.seed(78);
            float[] dropped = forward(layer, m, x, true);
            assertDropped(xs, clean, mask[1], dropped, rate);
        }
    }

    /** dropped = x + mask ⊙ (clean − x), element by element, and the mask really dropped and rescaled some. */
    private static void assertDropped(float[] x, float[] clean, float[] mask, float[] dropped, float rate) {
        int zeros = 0;
        for (int i = 0; i < x.length; i++) {
            assertThat(mask[i]).isIn(0f, 1f / (1 - rate));
            zeros += mask[i] == 0 ? 1 : 0;
            float expected = x[i] + mask[i] * (clean[i] - x[i]);
            assertThat(dropped[i]).as("element %d", i).isCloseTo(expected,
                    within(1e-5f));
        }
        assertThat(zeros).as("dropped elements of %d", x.length).isBetween(1, x.length - 1);
    }

    @Test
    void trunkSetsEveryLayerAndRatesOutsideZeroToOneAreRefused() {
        TransformerTrunk trunk = TransformerTrunk.builder().setConfig(new TransformerConfig(20, 8, 8, 3, 2)).build();
        assertThat(trunk.residualDropout()).isZero();
        trunk.setResidualDropout(0.2f);
        assertThat(trunk.getChildren().values()).allSatisfy(b ->
                assertThat(((TransformerLayer) b).residualDropout()).isEqualTo(0.2f));
        assertThatThrownBy(() -> trunk.setResidualDropout(1f)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[0, 1)").hasMessageContaining("1.0");
        assertThatThrownBy(() -> TransformerLayer.builder().setDModel(8).setHeads(2).optResidualDropout(-0.1f).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-0.1");
        assertThat(trunk.residualDropout()).as("a refused rate changes nothing").isEqualTo(0.2f);
    }

    @Test
    void aRewardModelsPooledRepresentationGetsTwoDifferentViewsOnlyWhileTraining() {
        TransformerConfig shape = new TransformerConfig(20, 8, 16, 2, 2);
        try (TransformerRewardModel rm = TransformerRewardModel.create(shape, 4);
             NDManager m = rm.manager().newSubManager()) {
            NDArray tokens = m.create(new int[] {1, 2, 3, 4, 5, 6, 7, 8}, new Shape(2, 4));  // (B, T)
            float[] inference = rm.forward(tokens, null, false).pooled().toFloatArray();
            RewardBlock block = rm.block();
            block.trunk().setResidualDropout(0.1f);
            float[] view1 = rm.forward(tokens, null, true).pooled().toFloatArray();
            float[] view2 = rm.forward(tokens, null, true).pooled().toFloatArray();
            assertThat(view1).isNotEqualTo(view2);
            assertThat(rm.forward(tokens, null, false).pooled().toFloatArray()).containsExactly(inference);
            assertThat(List.of(view1.length, view2.length)).containsOnly(2 * 16);
        }
    }
}
