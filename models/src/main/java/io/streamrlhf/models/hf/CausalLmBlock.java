package io.streamrlhf.models.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import io.streamrlhf.models.hf.safetensors.SafetensorsWeights;

/**
 * A decoder-only language model built from a Hugging Face config. {@code forward} takes
 * {@code tokens (B, T)} and returns {@code logits (B, T, V)} for positions {@code [0, T)}; with a second input,
 * the {@code attention_mask (B, T)} of a left-padded batch, each row's positions start at its first real token
 * and padding is never attended to.
 */
public interface CausalLmBlock extends Block {

    /** The parameters by checkpoint tensor name. */
    NamedParameters namedParameters();

    /**
     * Loads every parameter from {@code weights} into {@code manager}, applying the architecture's naming
     * conventions (prefixes, skipped buffers, a tied output projection).
     *
     * @throws HfFormatException naming the file and tensor on any mismatch
     */
    void loadWeights(SafetensorsWeights weights, NDManager manager);

    /** An empty cache for {@code batch} rows and {@code capacity} positions. */
    HfKvCache newCache(NDManager manager, int batch, int capacity);

    /**
     * Incremental forward: {@code tokens (B, T)} at positions {@code [pos, pos + T)}, attending over the
     * cached positions before them; writes this call's keys and values into {@code cache}.
     *
     * @return logits (B, T, V)
     */
    NDArray forwardCached(ParameterStore ps, NDArray tokens, HfKvCache cache, int pos);

    /**
     * As {@link #forwardCached(ParameterStore, NDArray, HfKvCache, int)} for a left-padded batch:
     * {@code attentionMask (B, pos + T)} marks the real tokens (1) and the padding (0) of every position so far,
     * cached and this call's; each row's positions count from its first real token and no query attends to
     * padding.
     *
     * @return logits (B, T, V)
     */
    NDArray forwardCached(ParameterStore ps, NDArray tokens, NDArray attentionMask, HfKvCache cache, int pos);

    /**
     * As {@link #forwardCached(ParameterStore, NDArray, NDArray, HfKvCache, int)}, projecting only the last
     * position's hidden state: every position's keys and values still go into {@code cache}.
     *
     * @param attentionMask (B, pos + T), or null when no row is padded
     * @return logits (B, 1, V)
     */
    NDArray forwardCachedLast(ParameterStore ps, NDArray tokens, NDArray attentionMask, HfKvCache cache, int pos);
}
