package io.streamrlhf.models.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Scaled dot-product attention with a causal mask and grouped-query heads, as transformers'
 * {@code eager_attention_forward}: each group of H / Hkv query heads shares one key/value head
 * ({@code repeat_kv}), scores are scaled by 1/sqrt(K), masked, softmaxed in float32 and applied to the values.
 *
 * <table>
 *   <caption>Dimension letters</caption>
 *   <tr><td>B</td><td>batch</td></tr>
 *   <tr><td>H</td><td>query heads</td></tr>
 *   <tr><td>Hkv</td><td>key/value heads (divides H)</td></tr>
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
        if (hkv != h) {
            k = repeatKv(k, h / hkv);  // (B, H, S, K)
            v = repeatKv(v, h / hkv);  // (B, H, S, K)
        }
        NDArray scaled = q.mul(1.0 / Math.sqrt(kDim));  // (B, H, T, K)
        NDArray scores = scaled.matMul(k.transpose(0, 1, 3, 2));  // (B, H, T, S)
        if (t > 1) {
            scores = scores.add(causalBias(q, (int) t, (int) s));  // (B, H, T, S)
        }
        if (keyBias != null) {
            scores = scores.add(keyBias);  // (B, H, T, S)
        }
        return scores.softmax(-1).matMul(v);  // (B, H, T, K)
    }

    /** (B, Hkv, S, K) to (B, Hkv * nRep, S, K): head j of the result is key/value head j / nRep. */
    private static NDArray repeatKv(NDArray kv, long nRep) {
        Shape s = kv.getShape();
        return kv.expandDims(2)  // (B, Hkv, 1, S, K)
                .broadcast(new Shape(s.get(0), s.get(1), nRep, s.get(2), s.get(3)))  // (B, Hkv, nRep, S, K)
                .reshape(s.get(0), s.get(1) * nRep, s.get(2), s.get(3));  // (B, H, S, K)
    }

    /** (T, S) additive mask: 0 where key j is at or before query i's position S - T + i, -inf after it. */
    private static NDArray causalBias(NDArray like, int t, int s) {
        float[] bias = new float[t * s];
        for (int i = 0; i < t; i++) {
            for (int j = s - t + i + 1; j < s; j++) {
                bias[i * s + j] = Float.NEGATIVE_INFINITY;
            }
        }
        return like.getManager().create(bias, new Shape(t, s));
    }
}
