package io.streamrlhf.models.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Preallocated keys (B, H, K, Smax), stored transposed, and values (B, H, Smax, K) for every layer,
 * written in place as decoding
 * advances. Allocated once per sampling call in the caller's manager, so decoding steps allocate
 * only their own small temporaries.
 */
public final class KvCache {

    private final NDArray[] keys;
    private final NDArray[] values;
    private final int capacity;

    /** Allocates caches for {@code batch} rows and {@code capacity} positions. */
    public KvCache(NDManager manager, TransformerConfig config, int batch, int capacity) {
        this.capacity = capacity;
        this.keys = new NDArray[config.layers()];
        this.values = new NDArray[config.layers()];
        Shape keyShape = new Shape(batch, config.heads(), config.headDim(), capacity);
        Shape valueShape = new Shape(batch, config.heads(), capacity, config.headDim());
        for (int l = 0; l < config.layers(); l++) {
            keys[l] = manager.zeros(keyShape, DataType.FLOAT32);
            values[l] = manager.zeros(valueShape, DataType.FLOAT32);
        }
    }

    /** Keys of layer {@code l}, transposed: (B, H, K, Smax). */
    public NDArray keys(int l) {
        return keys[l];
    }

    /** Values of layer {@code l}, (B, H, Smax, K). */
    public NDArray values(int l) {
        return values[l];
    }

    /** Positions the cache can hold (Smax). */
    public int capacity() {
        return capacity;
    }
}
