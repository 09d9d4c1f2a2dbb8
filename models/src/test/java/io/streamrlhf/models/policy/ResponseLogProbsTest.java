package io.streamrlhf.models.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link ResponseLogProbs} against one unpadded forward per row. */
class ResponseLogProbsTest {

    private static final TransformerConfig CONFIG = new TransformerConfig(32, 16, 32, 2, 4);
    private static TransformerPolicy policy;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
        policy = TransformerPolicy.create(CONFIG, 11);
    }

    @AfterAll
    static void stop() {
        policy.close();
    }

    /** log p(token t | tokens before) for t = 1..T-1 of one row, from a forward of that row alone. */
    private static float[] alone(int[] row) {
        try (NDManager m = policy.manager().newSubManager()) {
            var tokens = m.create(row, new Shape(1, row.length));
            PolicyOutput out = policy.forward(tokens, null, false);
            out.logits().attach(m);
            out.values().attach(m);
            return LogProbs.ofSequence(out.logits(), tokens).toFloatArray();
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void paddedBatchGivesEachRowsOwnLogProbs() {
        int[][] prompts = {{1, 2, 3}, {9, 8}, {30, 31, 7, 7, 4}};
        int[][] responses = {{4, 5, 6, 7}, {10, 11}, {12, 0, 13}};
        float[][] got = ResponseLogProbs.compute(policy, List.of(prompts), List.of(responses));
        for (int i = 0; i < prompts.length; i++) {
            float[] all = alone(concat(prompts[i], responses[i]));
            float[] expected = Arrays.copyOfRange(all, prompts[i].length - 1, all.length);
            assertThat(got[i]).as("row %d", i).hasSize(responses[i].length).containsExactly(expected, within(1e-5f));
            for (float v : got[i]) {
                assertThat(v).isNegative();
            }
        }
    }

    @Test
    void aResponseThatOverflowsTheContextIsCutAtItAndAFullPromptGetsNone() {
        int[] longPrompt = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        int[] longResponse = {11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
        int[] fullPrompt = new int[16];
        Arrays.fill(fullPrompt, 3);
        float[][] got = ResponseLogProbs.compute(policy, List.of(longPrompt, fullPrompt, new int[] {5}),
                List.of(longResponse, new int[] {4, 4}, new int[] {6}));
        assertThat(got[0]).as("16 - 10 response tokens fit").hasSize(6);
        float[] all = alone(concat(longPrompt, Arrays.copyOf(longResponse, 6)));
        assertThat(got[0]).containsExactly(Arrays.copyOfRange(all, 9, 15), within(1e-5f));
        assertThat(got[1]).as("a prompt that fills the context").isEmpty();
        assertThat(got[2]).containsExactly(alone(new int[] {5, 6}), within(1e-5f));
    }

    @Test
    void badRowsAreRefusedWithTheRowNamed() {
        assertThatThrownBy(() -> ResponseLogProbs.compute(policy, List.of(new int[] {1}, new int[] {2, 3}),
                List.of(new int[] {4}, new int[] {5, 40}))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("row 1").hasMessageContaining("token id 40").hasMessageContaining("32");
        assertThatThrownBy(() -> ResponseLogProbs.compute(policy, List.of(new int[0]), List.of(new int[] {4})))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("row 0 has an empty prompt");
        assertThatThrownBy(() -> ResponseLogProbs.compute(policy, List.of(new int[] {1}), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 prompts but 0 responses");
    }
}
