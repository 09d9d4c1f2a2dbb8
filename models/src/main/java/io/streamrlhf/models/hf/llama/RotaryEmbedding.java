package io.streamrlhf.models.hf.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embeddings as {@code LlamaRotaryEmbedding} (default type) and {@code apply_rotary_pos_emb}
 * compute them: frequencies {@code 1 / rope_theta^(2i / K)}, angles position x frequency, the two halves of a
 * head rotated together ({@code rotate_half}), not interleaved pairs.
 */
public final class RotaryEmbedding {

    private final float[] inverseFrequencies;

    /** Frequencies for heads of width {@code headDim} (even) and base {@code theta}. */
    public RotaryEmbedding(int headDim, double theta) {
        inverseFrequencies = new float[headDim / 2];
        for (int i = 0; i < inverseFrequencies.length; i++) {
            // float32, as HF: 1.0 / (base ** (arange(0, dim, 2).float() / dim))
            float exponent = (float) (2 * i) / headDim;
            inverseFrequencies[i] = (float) (1.0 / (float) Math.pow(theta, exponent));
        }
    }

    /** {@code cos} and {@code sin}, each (1, 1, T, K), for positions {@code [pos, pos + T)}. */
    public NDArray[] cosSin(NDManager manager, int pos, int t) {
        int half = inverseFrequencies.length;
        NDArray positions = manager.arange(pos, pos + t, 1, DataType.FLOAT32).reshape(t, 1);  // (T, 1)
        NDArray freqs = positions.mul(manager.create(inverseFrequencies, new Shape(1, half)));  // (T, K/2)
        NDArray angles = NDArrays.concat(new NDList(freqs, freqs), -1).reshape(1, 1, t, 2L * half);  // (1, 1, T, K)
        return new NDArray[] {angles.cos(), angles.sin()};
    }

    /**
     * {@code cos} and {@code sin}, each (B, 1, T, K), for per-row {@code positionIds (B, T)} (a left-padded
     * batch's positions, counted from each row's first real token).
     */
    public NDArray[] cosSin(NDArray positionIds) {
        Shape s = positionIds.getShape();
        int half = inverseFrequencies.length;
        NDArray positions = positionIds.toType(DataType.FLOAT32, false).reshape(s.get(0), s.get(1), 1);  // (B, T, 1)
        NDArray freqs = positions.mul(positionIds.getManager()
                .create(inverseFrequencies, new Shape(1, 1, half)));  // (B, T, K/2)
        NDArray angles = NDArrays.concat(new NDList(freqs, freqs), -1)
                .reshape(s.get(0), 1, s.get(1), 2L * half);  // (B, 1, T, K)
        return new NDArray[] {angles.cos(), angles.sin()};
    }

    /** {@code x·cos + rotate_half(x)·sin} for {@code x (B, H, T, K)}. */
    public static NDArray apply(NDArray x, NDArray cos, NDArray sin) {
        NDList halves = x.split(2, x.getShape().dimension() - 1);  // 2 x (B, H, T, K/2)
        NDArray rotated = NDArrays.concat(new NDList(halves.get(1).neg(), halves.get(0)), -1);  // (B, H, T, K)
        return x.mul(cos).add(rotated.mul(sin));  // (B, H, T, K)
    }
}
