package io.streamrlhf.models.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Preallocated keys and values of every layer, each (B, Hkv, Smax, K), written in place as decoding advances.
 * Keys are stored after the rotary embedding (Llama family), so a cached key never changes.
 */
public final class HfKvCache {

    private final NDArray[] keys;
    private final NDArray[] values;
    private final int capacity;

    /**
     * Allocates zeros for {@code layers} layers in {@code manager}.
     *
     * @param kvHeads  key/value heads (Hkv)
     * @param headDim  width of one head (K)
     * @param capacity positions the cache holds (Smax)
     */
    public HfKvCache(NDManager manager, int layers, int batch, int kvHeads, int headDim, int capacity) {
        this.capacity = capacity;
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        Shape shape = new Shape(batch, kvHeads, capacity, headDim);
        for (int l = 0; l < layers; l++) {
            keys[l] = manager.zeros(shape, DataType.FLOAT32);
            values[l] = manager.zeros(shape, DataType.FLOAT32);
        }
    }

    /**
     * Writes this call's keys and values (B, Hkv, T, K) of layer {@code layer} at {@code [pos, pos + T)} and
     * returns the keys and values of {@code [0, pos + T)}, each (B, Hkv, pos + T, K).
     */
    public NDArray[] append(int layer, NDArray k, NDArray v, int pos) {
        long t = k.getShape().get(2);
        if (pos + t > capacity) {
            throw new IllegalArgumentException("KV cache holds " + capacity + " positions; writing [" + pos + ", "
                    + (pos + t) + ")");
        }
        NDIndex written = new NDIndex().addAllDim(2).addSliceDim(pos, pos + t);
        keys[layer].set(written, k);
        values[layer].set(written, v);
        NDIndex visible = new NDIndex().addAllDim(2).addSliceDim(0, pos + t);
        return new NDArray[] {keys[layer].get(visible), values[layer].get(visible)};
    }

    /** Positions the cache holds (Smax). */
    public int capacity() {
        return capacity;
    }
}
