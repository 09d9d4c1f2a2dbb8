package io.streamrlhf.models.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.transformer.TransformerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TransformerPolicyTest {

    private static final TransformerConfig CONFIG = new TransformerConfig(32, 16, 32, 2, 4);
    private static TransformerPolicy policy;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
        policy = TransformerPolicy.create(CONFIG, 7);
    }

    @AfterAll
    static void stop() {
        policy.close();
    }

    @Test
    void outputsHaveTheDocumentedShapes() {
        try (NDManager step = policy.manager().newSubManager()) {
            NDArray tokens = step.create(new int[] {1, 2, 3, 4, 5, 6, 7, 8}, new Shape(2, 4));
            PolicyOutput out = policy.forward(tokens, null, false);
            assertThat(out.logits().getShape()).isEqualTo(new Shape(2, 4, 32));
            assertThat(out.values().getShape()).isEqualTo(new Shape(2, 4));
        }
    }

    @Test
    void changingFutureTokensLeavesEarlierLogitsExactlyUnchanged() {
        try (NDManager step = policy.manager().newSubManager()) {
            int[] a = {3, 9, 4, 1, 5, 9, 2, 6, 5, 3};
            int[] b = a.clone();
            for (int i = 6; i < b.length; i++) {
                b[i] = (b[i] * 7 + 11) % 32;
            }
            float[] la = policy.forward(step.create(a, new Shape(1, 10)), null, false).logits().toFloatArray();
            float[] lb = policy.forward(step.create(b, new Shape(1, 10)), null, false).logits().toFloatArray();
            int upTo = 6 * 32;  // positions 0..5 see only tokens 0..5, which are equal
            for (int i = 0; i < upTo; i++) {
                assertThat(lb[i]).as("logit %d", i).isEqualTo(la[i]);
            }
            // and the changed positions do change, so the comparison above is not vacuous
            boolean changed = false;
            for (int i = upTo; i < la.length; i++) {
                changed |= la[i] != lb[i];
            }
            assertThat(changed).isTrue();
        }
    }

    @Test
    void leftPaddingWithAMaskGivesTheUnpaddedOutputs() {
        try (NDManager step = policy.manager().newSubManager()) {
            int[] row = {4, 8, 15, 16, 23};
            NDArray plain = policy.forward(step.create(row, new Shape(1, 5)), null, false).logits();  // (1, 5, V)
            int[] padded = {0, 0, 0, 4, 8, 15, 16, 23};
            float[] mask = {0, 0, 0, 1, 1, 1, 1, 1};
            PolicyOutput out = policy.forward(step.create(padded, new Shape(1, 8)),
                    step.create(mask, new Shape(1, 8)), false);
            NDArray real = out.logits().get(":, 3:, :");  // (1, 5, V)
            assertThat(real.sub(plain).abs().max().getFloat()).isLessThan(1e-5f);
            assertThat(out.logits().isNaN().any().getBoolean()).isFalse();
        }
    }

    @Test
    void longerThanContextIsRefusedWithTheLimitNamed() {
        try (NDManager step = policy.manager().newSubManager()) {
            NDArray tokens = step.zeros(new Shape(1, 17), ai.djl.ndarray.types.DataType.INT32);
            assertThatThrownBy(() -> policy.forward(tokens, null, false))
                    .hasMessageContaining("contextLength 16");
        }
    }

    @Test
    void sameSeedSameWeightsOtherSeedOtherWeights() {
        try (TransformerPolicy again = TransformerPolicy.create(CONFIG, 7);
             TransformerPolicy other = TransformerPolicy.create(CONFIG, 8);
             NDManager step = policy.manager().newSubManager()) {
            NDArray tokens = step.create(new int[] {1, 2, 3}, new Shape(1, 3));
            float[] a = policy.forward(tokens, null, false).logits().toFloatArray();
            float[] b = again.forward(tokens, null, false).logits().toFloatArray();
            float[] c = other.forward(tokens, null, false).logits().toFloatArray();
            assertThat(b).containsExactly(a);
            assertThat(c).isNotEqualTo(a);
        }
    }
}
