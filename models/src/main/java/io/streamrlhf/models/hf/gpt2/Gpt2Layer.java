package io.streamrlhf.models.hf.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.streamrlhf.models.hf.CausalAttention;
import io.streamrlhf.models.hf.HfKvCache;
import io.streamrlhf.models.hf.NamedParameters;
import io.streamrlhf.models.transformer.TransformerLayer;

/**
 * One {@code GPT2Block}: {@code x + attn(ln_1(x))}, then {@code + mlp(ln_2(·))}, with {@code Conv1D}
 * projections ({@code x·W + b}, W stored {@code [in, out]}) and the tanh GELU.
 *
 * <table>
 *   <caption>Dimension letters</caption>
 *   <tr><td>B</td><td>batch</td></tr>
 *   <tr><td>T</td><td>query positions in this call</td></tr>
 *   <tr><td>S</td><td>key positions (T, or cached plus T)</td></tr>
 *   <tr><td>D</td><td>n_embd</td></tr>
 *   <tr><td>H</td><td>n_head</td></tr>
 *   <tr><td>K</td><td>head width D / H</td></tr>
 *   <tr><td>I</td><td>MLP width (n_inner, default 4D)</td></tr>
 * </table>
 *
 * <p>Input {@code x (B, T, D)}; output {@code (B, T, D)}.
 */
public final class Gpt2Layer extends AbstractBlock {

    private static final byte VERSION = 1;
    // gelu_new: 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))), activations.py NewGELUActivation
    private static final double GELU_SCALE = Math.sqrt(2.0 / Math.PI);

    private final int index;
    private final int dModel;
    private final int heads;
    private final float eps;
    private final Parameter ln1Weight;
    private final Parameter ln1Bias;
    private final Parameter attnWeight;
    private final Parameter attnBias;
    private final Parameter attnProjWeight;
    private final Parameter attnProjBias;
    private final Parameter ln2Weight;
    private final Parameter ln2Bias;
    private final Parameter fcWeight;
    private final Parameter fcBias;
    private final Parameter mlpProjWeight;
    private final Parameter mlpProjBias;

    private Gpt2Layer(Builder b) {
        super(VERSION);
        Gpt2Config c = b.config;
        this.index = b.index;
        this.dModel = c.n_embd();
        this.heads = c.n_head();
        this.eps = c.layer_norm_epsilon().floatValue();
        int d = dModel;
        int inner = c.innerSize();
        String p = "transformer.h." + index + ".";
        NamedParameters n = b.names;
        ln1Weight = addParameter(n.add(p + "ln_1.weight", Parameter.Type.GAMMA, new Shape(d)));
        ln1Bias = addParameter(n.add(p + "ln_1.bias", Parameter.Type.BETA, new Shape(d)));
        attnWeight = addParameter(n.add(p + "attn.c_attn.weight", Parameter.Type.WEIGHT, new Shape(d, 3L * d)));
        attnBias = addParameter(n.add(p + "attn.c_attn.bias", Parameter.Type.BIAS, new Shape(3L * d)));
        attnProjWeight = addParameter(n.add(p + "attn.c_proj.weight", Parameter.Type.WEIGHT, new Shape(d, d)));
        attnProjBias = addParameter(n.add(p + "attn.c_proj.bias", Parameter.Type.BIAS, new Shape(d)));
        ln2Weight = addParameter(n.add(p + "ln_2.weight", Parameter.Type.GAMMA, new Shape(d)));
        ln2Bias = addParameter(n.add(p + "ln_2.bias", Parameter.Type.BETA, new Shape(d)));
        fcWeight = addParameter(n.add(p + "mlp.c_fc.weight", Parameter.Type.WEIGHT, new Shape(d, inner)));
        fcBias = addParameter(n.add(p + "mlp.c_fc.bias", Parameter.Type.BIAS, new Shape(inner)));
        mlpProjWeight = addParameter(n.add(p + "mlp.c_proj.weight", Parameter.Type.WEIGHT, new Shape(inner, d)));
        mlpProjBias = addParameter(n.add(p + "mlp.c_proj.bias", Parameter.Type.BIAS, new Shape(d)));
    }

    /** A builder; {@code setConfig}, {@code setIndex} and {@code setNames} are required. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        return new NDList(forward(ps, inputs.get(0), null, 0, training));  // (B, T, D)
    }

    /**
     * The block on {@code x (B, T, D)} at positions {@code [pos, pos + T)}; with a cache, attends over the
     * cached positions too and writes this call's keys and values into it.
     *
     * @return (B, T, D)
     */
    public NDArray forward(ParameterStore ps, NDArray x, HfKvCache cache, int pos, boolean training) {
        return forward(ps, x, null, cache, pos, training);
    }

    /**
     * As {@link #forward(ParameterStore, NDArray, HfKvCache, int, boolean)}, with {@code keyBias (B, 1, 1, S)}
     * masking padding keys (see {@link CausalAttention#attend(NDArray, NDArray, NDArray, NDArray)}); null for
     * none.
     */
    public NDArray forward(ParameterStore ps, NDArray x, NDArray keyBias, HfKvCache cache, int pos,
                           boolean training) {
        Shape s = x.getShape();
        long b = s.get(0);
        long t = s.get(1);
        NDArray h = layerNorm(ps, x, ln1Weight, ln1Bias, training);  // (B, T, D)
        NDArray qkv = conv1d(ps, h, attnWeight, attnBias, training);  // (B, T, 3D)
        NDList parts = qkv.split(3, 2);  // 3 x (B, T, D)
        NDArray[] heads3 = new NDArray[3];
        for (int i = 0; i < 3; i++) {
            heads3[i] = parts.get(i).reshape(b, t, heads, dModel / heads).transpose(0, 2, 1, 3);  // (B, H, T, K)
        }
        NDArray k = heads3[1];
        NDArray v = heads3[2];
        if (cache != null) {
            NDArray[] kv = cache.append(index, k, v, pos);
            k = kv[0];  // (B, H, S, K)
            v = kv[1];  // (B, H, S, K)
        }
        NDArray attended = CausalAttention.attend(heads3[0], k, v, keyBias);  // (B, H, T, K)
        NDArray merged = attended.transpose(0, 2, 1, 3).reshape(b, t, dModel);  // (B, T, D)
        NDArray y = x.add(conv1d(ps, merged, attnProjWeight, attnProjBias, training));  // (B, T, D)
        NDArray m = layerNorm(ps, y, ln2Weight, ln2Bias, training);  // (B, T, D)
        NDArray up = geluNew(conv1d(ps, m, fcWeight, fcBias, training));  // (B, T, I)
        return y.add(conv1d(ps, up, mlpProjWeight, mlpProjBias, training));  // (B, T, D)
    }

    /** transformers' {@code Conv1D}: {@code x·W + b} with W stored {@code [in, out]}. */
    private static NDArray conv1d(ParameterStore ps, NDArray x, Parameter w, Parameter b, boolean training) {
        NDArray weight = ps.getValue(w, x.getDevice(), training);  // (in, out)
        NDArray transposed = weight.transpose();  // a view, but a handle in the model's manager: the call's owns it
        transposed.attach(x.getManager());
        return TransformerLayer.linear(x, transposed, ps.getValue(b, x.getDevice(), training));  // (…, out)
    }

    private NDArray layerNorm(ParameterStore ps, NDArray x, Parameter gamma, Parameter beta, boolean training) {
        return LayerNorm.layerNorm(x, new Shape(dModel), ps.getValue(gamma, x.getDevice(), training),
                ps.getValue(beta, x.getDevice(), training), eps).singletonOrThrow();  // (B, T, D)
    }

    /** The tanh approximation of GELU ({@code gelu_new}). */
    static NDArray geluNew(NDArray x) {
        NDArray inner = x.pow(3).mul(0.044715).add(x).mul(GELU_SCALE);
        return x.mul(0.5).mul(inner.tanh().add(1.0));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    /** Builds a {@link Gpt2Layer}. */
    public static final class Builder {
        private Gpt2Config config;
        private int index = -1;
        private NamedParameters names;

        private Builder() {
        }

        /** The model's config (required). */
        public Builder setConfig(Gpt2Config config) {
            this.config = config;
            return this;
        }

        /** The layer's index, the {@code i} of {@code transformer.h.i.} (required). */
        public Builder setIndex(int index) {
            this.index = index;
            return this;
        }

        /** The model's parameter table, into which the layer declares its parameters (required). */
        public Builder setNames(NamedParameters names) {
            this.names = names;
            return this;
        }

        /** Checks the settings and builds the layer. */
        public Gpt2Layer build() {
            if (config == null || names == null || index < 0) {
                throw new IllegalArgumentException("Gpt2Layer: setConfig, setIndex and setNames are required");
            }
            return new Gpt2Layer(this);
        }
    }
}
