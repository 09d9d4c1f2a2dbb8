package io.streamrlhf.models.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * What {@link HfSampler} decodes through: a Hugging Face causal LM with a KV cache, whether loaded for inference
 * ({@link HfCausalLm}) or held by a trainable policy ({@link HfPolicy}).
 */
public interface KvDecoding {

    /** The model's config (vocabulary and position limit). */
    HfModelConfig modelConfig();

    /** The manager owning the weights; per-call sub-managers hang off it. */
    NDManager manager();

    /** An empty KV cache in {@code cacheManager} for {@code batch} rows and {@code capacity} positions. */
    HfKvCache newCache(NDManager cacheManager, int batch, int capacity);

    /**
     * The cached forward of a left-padded batch, recording no autograd graph: logits (B, T, V) of
     * {@code tokens (B, T)} at cache slots {@code [pos, pos + T)}, with {@code attentionMask (B, pos + T)} over the
     * cached positions and this call's, or null when no row is padded (positions {@code [pos, pos + T)} in every
     * row).
     */
    NDArray logits(NDArray tokens, NDArray attentionMask, HfKvCache cache, int pos);

    /**
     * As {@link #logits}, the logits of the last position only, (B, 1, V): what sampling reads after a prompt. The
     * output projection, the widest matrix product of the model, then runs on one position per row instead of all
     * T (transformers' {@code generate} does the same).
     */
    NDArray lastLogits(NDArray tokens, NDArray attentionMask, HfKvCache cache, int pos);
}
