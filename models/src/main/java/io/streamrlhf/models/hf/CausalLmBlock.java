package io.streamrlhf.models.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import io.streamrlhf.models.hf.safetensors.SafetensorsWeights;

/**
 * A decoder-only language model built from a Hugging Face config. {@code forward} takes
 * {@code tokens (B, T)} and returns {@code logits (B, T, V)} for positions {@code [0, T)}.
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
}
