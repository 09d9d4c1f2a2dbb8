package io.streamrlhf.models.transformer;

/*
 * CONTRACT: shared by the policy, the reward model, checkpoints and the TorchScript adapters. Its JSON
 * form (Jackson, record components as field names) is what checkpoints store as config.json.
 */

/**
 * Shape of a decoder-only transformer.
 *
 * @param vocabSize     number of token ids (V)
 * @param contextLength longest sequence, the size of the position table (S)
 * @param dModel        width of the residual stream (D)
 * @param layers        number of transformer layers (L)
 * @param heads         attention heads (H); {@code dModel} must be divisible by it
 */
public record TransformerConfig(int vocabSize, int contextLength, int dModel, int layers, int heads) {

    /** Checks every field and names the one that is wrong. */
    public TransformerConfig {
        require(vocabSize > 1, "vocabSize must be > 1, got " + vocabSize);
        require(contextLength > 1, "contextLength must be > 1, got " + contextLength);
        require(dModel > 0, "dModel must be > 0, got " + dModel);
        require(layers > 0, "layers must be > 0, got " + layers);
        require(heads > 0, "heads must be > 0, got " + heads);
        require(dModel % heads == 0, "dModel " + dModel + " is not divisible by heads " + heads);
    }

    /** Width of one attention head (dModel / heads). */
    public int headDim() {
        return dModel / heads;
    }

    /** A copy with another vocabulary size. */
    public TransformerConfig withVocabSize(int newVocabSize) {
        return new TransformerConfig(newVocabSize, contextLength, dModel, layers, heads);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("TransformerConfig: " + message);
        }
    }
}
