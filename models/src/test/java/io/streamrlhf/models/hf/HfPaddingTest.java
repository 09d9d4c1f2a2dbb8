package io.streamrlhf.models.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamrlhf.models.engine.ModelRuntime;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A left-padded batch with its attention mask gives every row, at its real positions, the logits of the row run
 * alone (learned positions for GPT-2, rotary for the Llama family, GQA and biases for Qwen2), in the full
 * forward and through the KV cache, whatever id fills the padding.
 */
class HfPaddingTest {

    private static final double TOLERANCE = 1e-5;
    static final int[][] PROMPTS = {{5, 17, 3, 42, 8, 23, 61}, {9, 1, 60}, {7, 7, 19, 33, 4}, {50}};
    private static final int[] FED = {11, 36, 2, 27};

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    static int longest(int[][] rows) {
        int p = 0;
        for (int[] r : rows) {
            p = Math.max(p, r.length);
        }
        return p;
    }

    /** The rows left-padded with {@code padId} to the longest, (B, P). */
    static NDArray leftPadded(NDManager m, int[][] rows, int padId) {
        int p = longest(rows);
        int[] flat = new int[rows.length * p];
        java.util.Arrays.fill(flat, padId);
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, flat, r * p + p - rows[r].length, rows[r].length);
        }
        return m.create(flat, new Shape(rows.length, p));
    }

    /** 1 over each row's real tokens, 0 over its left padding, then {@code extra} ones: (B, P + extra). */
    static NDArray mask(NDManager m, int[][] rows, int extra) {
        int p = longest(rows);
        int w = p + extra;
        int[] flat = new int[rows.length * w];
        for (int r = 0; r < rows.length; r++) {
            java.util.Arrays.fill(flat, r * w + p - rows[r].length, (r + 1) * w, 1);
        }
        return m.create(flat, new Shape(rows.length, w));
    }

    private static void assertClose(float[] got, float[] want, String what) {
        assertThat(got).as(what).hasSameSizeAs(want);
        double worst = 0;
        for (int i = 0; i < got.length; i++) {
            worst = Math.max(worst, Math.abs(got[i] - want[i]));
        }
        assertThat(worst).as(what + ": largest difference").isLessThan(TOLERANCE);
    }

    private HfCausalLm load(String name) throws Exception {
        return HfCausalLm.load(HfForwardTest.regenerate(HfForwardTest.expected(name), tmp.resolve(name)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "qwen2", "llama", "mistral"})
    void leftPaddedBatchEqualsTheRowsRunOneByOne(String name) throws Exception {
        try (HfCausalLm lm = load(name); NDManager step = lm.manager().newSubManager()) {
            int p = longest(PROMPTS);
            for (int padId : new int[] {0, lm.config().vocabSize() - 1}) {
                NDArray logits = lm.logits(leftPadded(step, PROMPTS, padId), mask(step, PROMPTS, 0));  // (B, P, V)
                for (int r = 0; r < PROMPTS.length; r++) {
                    int off = p - PROMPTS[r].length;
                    float[] alone = lm.logits(step.create(PROMPTS[r], new Shape(1, PROMPTS[r].length)))
                            .toFloatArray();  // (1, T_r, V)
                    float[] padded = logits.get("{}, {}:, :", r, off).toFloatArray();  // (T_r, V)
                    assertClose(padded, alone, name + " row " + r + " pad " + padId);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "qwen2"})
    void withoutTheMaskPaddingChangesTheShortRows(String name) throws Exception {
        // the property above is not automatic: unmasked, the padding shifts positions and is attended to
        try (HfCausalLm lm = load(name); NDManager step = lm.manager().newSubManager()) {
            int p = longest(PROMPTS);
            int r = 1;
            float[] padded = lm.logits(leftPadded(step, PROMPTS, 0))
                    .get("{}, {}:, :", r, p - PROMPTS[r].length).toFloatArray();
            float[] alone = lm.logits(step.create(PROMPTS[r], new Shape(1, PROMPTS[r].length))).toFloatArray();
            double worst = 0;
            for (int i = 0; i < alone.length; i++) {
                worst = Math.max(worst, Math.abs(padded[i] - alone[i]));
            }
            assertThat(worst).isGreaterThan(1e-3);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "qwen2", "llama"})
    void kvCacheDecodingOfAPaddedBatchEqualsEachRowsFullForward(String name) throws Exception {
        try (HfCausalLm lm = load(name); NDManager step = lm.manager().newSubManager()) {
            int b = PROMPTS.length;
            int p = longest(PROMPTS);
            HfKvCache cache = lm.newCache(step, b, p + FED.length);
            NDArray last = lm.logits(leftPadded(step, PROMPTS, 0), mask(step, PROMPTS, 0), cache, 0)
                    .get(":, -1, :");  // (B, V)
            for (int s = 0; s <= FED.length; s++) {
                float[] cached = last.toFloatArray();  // (B, V)
                int v = lm.config().vocabSize();
                for (int r = 0; r < b; r++) {
                    int[] seq = new int[PROMPTS[r].length + s];
                    System.arraycopy(PROMPTS[r], 0, seq, 0, PROMPTS[r].length);
                    System.arraycopy(FED, 0, seq, PROMPTS[r].length, s);
                    float[] full = lm.logits(step.create(seq, new Shape(1, seq.length))).get("0, -1, :")
                            .toFloatArray();  // (V)
                    assertClose(java.util.Arrays.copyOfRange(cached, r * v, (r + 1) * v), full,
                            name + " row " + r + " after " + s + " fed tokens");
                }
                if (s < FED.length) {
                    int[] next = new int[b];
                    java.util.Arrays.fill(next, FED[s]);
                    last = lm.logits(step.create(next, new Shape(b, 1)), mask(step, PROMPTS, s + 1), cache, p + s)
                            .get(":, -1, :");  // (B, V)
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2"})
    void aMaskThatDoesNotCoverTheCachedPositionsIsRefused(String name) throws Exception {
        try (HfCausalLm lm = load(name); NDManager step = lm.manager().newSubManager()) {
            HfKvCache cache = lm.newCache(step, PROMPTS.length, 16);
            NDArray tokens = leftPadded(step, PROMPTS, 0);
            lm.logits(tokens, mask(step, PROMPTS, 0), cache, 0);
            NDArray one = step.zeros(new Shape(PROMPTS.length, 1), ai.djl.ndarray.types.DataType.INT32);
            assertThatThrownBy(() -> lm.logits(one, mask(step, PROMPTS, 0), cache, longest(PROMPTS)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("attention mask");
        }
    }
}
