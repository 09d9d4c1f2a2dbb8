package io.streamrlhf.models.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The shared decoder trunk: token and position embeddings, {@code L} pre-LN
 * {@link TransformerLayer}s and a final LayerNorm. Policies and reward models put their heads on it.
 *
 * <table>
 *   <caption>Dimension letters</caption>
 *   <tr><td>B</td><td>batch</td></tr>
 *   <tr><td>T</td><td>sequence length</td></tr>
 *   <tr><td>D</td><td>model width</td></tr>
 * </table>
 *
 * <p>Inputs: {@code tokens (B, T)} int ids and optionally {@code mask (B, T)} (1 real, 0 pad).
 * Output: {@code hidden (B, T, D)}. Positions count real tokens only (the first real token of a
 * left-padded row is position 0), and no real token attends to padding, so padding never changes
 * the outputs at real tokens.
 */
public final class TransformerTrunk extends AbstractBlock {

    private static final byte VERSION = 1;

    private final TransformerConfig config;
    private final Parameter tokenEmbedding;
    private final Parameter positionEmbedding;
    private final TransformerLayer[] layers;
    private final Parameter lnGamma;
    private final Parameter lnBeta;

    private TransformerTrunk(Builder b) {
        super(VERSION);
        this.config = b.config;
        int d = config.dModel();
        tokenEmbedding = addParameter(TransformerLayer.param("token_embedding", Parameter.Type.WEIGHT,
                new Shape(config.vocabSize(), d)));
        positionEmbedding = addParameter(TransformerLayer.param("position_embedding", Parameter.Type.WEIGHT,
                new Shape(config.contextLength(), d)));
        layers = new TransformerLayer[config.layers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = addChildBlock(String.format("layer%02d", l),
                    TransformerLayer.builder().setDModel(d).setHeads(config.heads()).build());
        }
        lnGamma = addParameter(TransformerLayer.param("ln_f_gamma", Parameter.Type.GAMMA, new Shape(d)));
        lnBeta = addParameter(TransformerLayer.param("ln_f_beta", Parameter.Type.BETA, new Shape(d)));
    }

    /** A builder; {@code setConfig} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Sets the residual dropout rate of every layer ({@link TransformerLayer#setResidualDropout}); applied in
     * training forwards only. Default 0.
     */
    public void setResidualDropout(float rate) {
        TransformerLayer.checkRate(rate);
        for (TransformerLayer layer : layers) {
            layer.setResidualDropout(rate);
        }
    }

    /** The layers' residual dropout rate (they share one). */
    public float residualDropout() {
        return layers.length == 0 ? 0 : layers[0].residualDropout();
    }

    /** The shape this trunk was built with. */
    public TransformerConfig config() {
        return config;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDArray tokens = inputs.get(0);  // (B, T)
        NDArray mask = inputs.size() > 1 ? inputs.get(1) : null;  // (B, T)
        long t = tokens.getShape().get(1);
        if (t > config.contextLength()) {
            throw new IllegalArgumentException("sequence length " + t + " exceeds contextLength "
                    + config.contextLength());
        }
        NDManager m = tokens.getManager();
        NDArray positions;
        NDArray bias;
        if (mask == null) {
            positions = m.arange(0, (int) t, 1, DataType.INT64).expandDims(0);  // (1, T)
            bias = causalBias(m, (int) t).reshape(1, 1, t, t);  // (1, 1, T, T)
        } else {
            NDArray real = mask.toType(DataType.FLOAT32, false);  // (B, T)
            positions = real.cumSum(1).sub(1).maximum(0).toType(DataType.INT64, false);  // (B, T)
            bias = paddedBias(m, real, (int) t);  // (B, 1, T, T)
        }
        NDArray x = embed(ps, tokens, positions, training);  // (B, T, D)
        for (TransformerLayer layer : layers) {
            x = layer.forward(ps, new NDList(x, bias), training).singletonOrThrow();  // (B, T, D)
        }
        return new NDList(finalNorm(ps, x, training));  // (B, T, D)
    }

    /**
     * Incremental forward for decoding with a {@link KvCache}.
     *
     * @param tokens    (B, T) ids of the positions {@code [pos, pos + T)}
     * @param positions (B, T) position ids (real-token counts)
     * @param bias      (B|1, 1, T, pos + T) additive attention mask, or {@code null} if all visible
     * @return hidden (B, T, D) after the final LayerNorm
     */
    public NDArray forwardCached(ParameterStore ps, NDArray tokens, NDArray positions, NDArray bias, KvCache cache,
                                 int pos) {
        NDArray x = embed(ps, tokens, positions, false);  // (B, T, D)
        for (int l = 0; l < layers.length; l++) {
            x = layers[l].forwardCached(ps, x, bias, cache.keys(l), cache.values(l), pos);  // (B, T, D)
        }
        return finalNorm(ps, x, false);  // (B, T, D)
    }

    private NDArray embed(ParameterStore ps, NDArray tokens, NDArray positions, boolean training) {
        NDArray tok = Embedding.embedding(tokens, TransformerLayer.value(ps, tokenEmbedding, tokens, training),
                SparseFormat.DENSE).singletonOrThrow();  // (B, T, D)
        NDArray pos = Embedding.embedding(positions, TransformerLayer.value(ps, positionEmbedding, tokens, training),
                SparseFormat.DENSE).singletonOrThrow();  // (B|1, T, D)
        return tok.add(pos);  // (B, T, D)
    }

    private NDArray finalNorm(ParameterStore ps, NDArray x, boolean training) {
        return LayerNorm.layerNorm(x, new Shape(config.dModel()), TransformerLayer.value(ps, lnGamma, x, training),
                TransformerLayer.value(ps, lnBeta, x, training), 1e-5f).singletonOrThrow();
    }

    /** (T, T) additive causal mask: 0 on and below the diagonal, -inf above. */
    static NDArray causalBias(NDManager m, int t) {
        float[] bias = new float[t * t];
        for (int i = 0; i < t; i++) {
            for (int j = i + 1; j < t; j++) {
                bias[i * t + j] = Float.NEGATIVE_INFINITY;
            }
        }
        return m.create(bias, new Shape(t, t));
    }

    /**
     * (B, 1, T, T): causal, no attention to padded keys, and every query may see itself so that
     * padded query rows stay finite (an all -inf row would give NaN and poison later layers).
     */
    private static NDArray paddedBias(NDManager m, NDArray real, int t) {
        long b = real.getShape().get(0);
        NDArray causal = causalBias(m, t).reshape(1, 1, t, t).eq(0);  // (1, 1, T, T) bool
        NDArray keys = real.reshape(b, 1, 1, t).gt(0);  // (B, 1, 1, T) bool
        NDArray self = m.eye(t).reshape(1, 1, t, t).gt(0);  // (1, 1, T, T) bool
        NDArray allowed = causal.logicalAnd(keys).logicalOr(self);  // (B, 1, T, T)
        Shape shape = allowed.getShape();
        // DJL's where does not broadcast: both branches take the full shape.
        return NDArrays.where(allowed, m.zeros(shape), m.full(shape, Float.NEGATIVE_INFINITY));  // (B, 1, T, T)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape tokens = inputShapes[0];
        return new Shape[] {new Shape(tokens.get(0), tokens.get(1), config.dModel())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape tokens = inputShapes[0];
        Shape x = new Shape(tokens.get(0), tokens.get(1), config.dModel());
        Shape bias = new Shape(tokens.get(0), 1, tokens.get(1), tokens.get(1));
        for (TransformerLayer layer : layers) {
            layer.initialize(manager, dataType, x, bias);
        }
    }

    /** Builds a {@link TransformerTrunk}. */
    public static final class Builder {
        private TransformerConfig config;

        private Builder() {
        }

        /** Model shape (required). */
        public Builder setConfig(TransformerConfig config) {
            this.config = config;
            return this;
        }

        /** Checks the settings and builds the trunk. */
        public TransformerTrunk build() {
            if (config == null) {
                throw new IllegalArgumentException("TransformerTrunk: setConfig(...) is required");
            }
            return new TransformerTrunk(this);
        }
    }
}
