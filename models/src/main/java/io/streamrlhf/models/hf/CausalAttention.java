package io.streamrlhf.models.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Scaled dot-product attention with a causal mask and grouped-query heads, as transformers'
 * {@code eager_attention_forward}: each group of R = H / Hkv query heads shares one key/value head
 * ({@code repeat_kv}), scores are scaled by 1/sqrt(K), masked, softmaxed in float32 and applied to the values.
 *
 * <p>A group's R query heads are stacked as R·T rows against their one key/value head, rather than each key/value
 * head copied R times as {@code repeat_kv} does: the same products, without copying the whole key/value cache R
 * times per layer per decoding step.
 *
 * <table>
 *   <caption>Dimension letters</caption>
 *   <tr><td>B</td><td>batch</td></tr>
 *   <tr><td>H</td><td>query heads</td></tr>
 *   <tr><td>Hkv</td><td>key/value heads (divides H)</td></tr>
 *   <tr><td>R</td><td>query heads per key/value head, H / Hkv</td></tr>
 *   <tr><td>T</td><td>query positions in this call</td></tr>
 *   <tr><td>S</td><td>key positions; query i sits at position S - T + i</td></tr>
 *   <tr><td>K</td><td>head width</td></tr>
 * </table>
 */
public final class CausalAttention {

    private CausalAttention() {
    }

    /**
     * Attends {@code q (B, H, T, K)} over {@code k, v (B, Hkv, S, K)}; returns (B, H, T, K). Query i sees keys
     * {@code [0, S - T + i]}, which is the causal mask of a full forward (S = T) and of a cached step.
     */
    public static NDArray attend(NDArray q, NDArray k, NDArray v) {
        return attend(q, k, v, null);
    }

    /**
     * As {@link #attend(NDArray, NDArray, NDArray)}, with {@code keyBias (B, 1, 1, S)} added to every query's
     * scores (0 for a real key, a large negative number for a padding key); null for none.
     */
    public static NDArray attend(NDArray q, NDArray k, NDArray v, NDArray keyBias) {
        Shape qs = q.getShape();
        long b = qs.get(0);
        long h = qs.get(1);
        long t = qs.get(2);
        long kDim = qs.get(3);
        long hkv = k.getShape().get(1);
        long s = k.getShape().get(2);
        long rep = h / hkv;
        NDArray scaled = q.mul(1.0 / Math.sqrt(kDim));  // (B, H, T, K)
        if (rep > 1) {
            // query head g·R + r reads key/value head g (repeat_kv's order): row r·T + i of group g
            scaled = scaled.reshape(b, hkv, rep * t, kDim);  // (B, Hkv, R·T, K)
        }
        NDArray scores = scaled.matMul(k.transpose(0, 1, 3, 2));  // (B, Hkv, R·T, S)
        if (t > 1) {
            scores = scores.add(causalBias(q, (int) rep, (int) t, (int) s));  // (B, Hkv, R·T, S)
        }
        if (keyBias != null) {
            scores = scores.add(keyBias);  // (B, Hkv, R·T, S)
        }
        NDArray attended = scores.softmax(-1).matMul(v);  // (B, Hkv, R·T, K)
        return rep > 1 ? attended.reshape(b, h, t, kDim) : attended;  // (B, H, T, K)
    }

    /**
     * (R·T, S) additive mask: row r·T + i is query i's, 0 where key j is at or before its position S - T + i,
     * -inf after it.
     */
    private static NDArray causalBias(NDArray like, int rep, int t, int s) {
        float[] bias = new float[rep * t * s];
        for (int r = 0; r < rep; r++) {
            for (int i = 0; i < t; i++) {
                int row = (r * t + i) * s;
                for (int j = s - t + i + 1; j < s; j++) {
                    bias[row + j] = Float.NEGATIVE_INFINITY;
                }
            }
        }
        return like.getManager().create(bias, new Shape((long) rep * t, s));
    }
}
