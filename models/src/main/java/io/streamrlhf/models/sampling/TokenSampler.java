package io.streamrlhf.models.sampling;

/**
 * Samples continuations of a batch of prompts from one policy. {@link Sampler} does it for the project's own
 * transformer (and any policy, by full forwards); {@link io.streamrlhf.models.hf.HfSampler} for Hugging Face models
 * with the draw on the device. Implementations are not thread-safe: one per thread.
 */
public interface TokenSampler {

    /**
     * Samples continuations of {@code prompts} (each non-empty). A row stops after drawing
     * {@code params.eosId()} or any of {@code stopIds} (included as its last token), after
     * {@code params.maxNewTokens()} tokens, or at the context length.
     */
    SampleResult sample(int[][] prompts, SamplingParams params, int[] stopIds);
}
