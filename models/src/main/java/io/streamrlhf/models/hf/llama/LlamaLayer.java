package io.streamrlhf.models.hf.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.streamrlhf.models.hf.CausalAttention;
import io.streamrlhf.models.hf.HfKvCache;
import io.streamrlhf.models.hf.NamedParameters;
import io.streamrlhf.models.transformer.TransformerLayer;

/**
 * One {@code LlamaDecoderLayer}: {@code x + o_proj(attention(input_layernorm(x)))}, then
 * {@code + down_proj(silu(gate_proj(·)) · up_proj(·))} on {@code post_attention_layernorm}; queries and keys
 * rotated by {@link RotaryEmbedding}, Hkv key/value heads shared by groups of query heads.
 *
 * <table>
 *   <caption>Dimension letters</caption>
 *   <tr><td>B</td><td>batch</td></tr>
 *   <tr><td>T</td><td>query positions in this call</td></tr>
 *   <tr><td>S</td><td>key positions (T, or cached plus T)</td></tr>
 *   <tr><td>D</td><td>hidden_size</td></tr>
 *   <tr><td>H</td><td>num_attention_heads</td></tr>
 *   <tr><td>Hkv</td><td>num_key_value_heads</td></tr>
 *   <tr><td>K</td><td>head_dim</td></tr>
 *   <tr><td>I</td><td>intermediate_size</td></tr>
 * </table>
 *
 * <p>Input {@code x (B, T, D)}; output {@code (B, T, D)}.
 */
public final class LlamaLayer extends AbstractBlock {

    private static final byte VERSION = 1;

    private final int index;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final float eps;
    private final Parameter inputNorm;
    private final Parameter qWeight;
    private final Parameter qBias;
    private final Parameter kWeight;
    private final Parameter kBias;
    private final Parameter vWeight;
    private final Parameter vBias;
    private final Parameter oWeight;
    private final Parameter oBias;
    private final Parameter postNorm;
    private final Parameter gateWeight;
    private final Parameter upWeight;
    private final Parameter downWeight;

    private LlamaLayer(Builder b) {
        super(VERSION);
        LlamaConfig c = b.config;
        this.index = b.index;
        this.heads = c.num_attention_heads();
        this.kvHeads = c.num_key_value_heads();
        this.headDim = c.head_dim();
        this.eps = c.rms_norm_eps().floatValue();
        int d = c.hidden_size();
        int inter = c.intermediate_size();
        long qOut = (long) heads * headDim;
        long kvOut = (long) kvHeads * headDim;
        String p = "model.layers." + index + ".";
        NamedParameters n = b.names;
        inputNorm = addParameter(n.add(p + "input_layernorm.weight", Parameter.Type.GAMMA, new Shape(d)));
        qWeight = addParameter(n.add(p + "self_attn.q_proj.weight", Parameter.Type.WEIGHT, new Shape(qOut, d)));
        qBias = c.qkvBias() ? addParameter(n.add(p + "self_attn.q_proj.bias", Parameter.Type.BIAS,
                new Shape(qOut))) : null;
        kWeight = addParameter(n.add(p + "self_attn.k_proj.weight", Parameter.Type.WEIGHT, new Shape(kvOut, d)));
        kBias = c.qkvBias() ? addParameter(n.add(p + "self_attn.k_proj.bias", Parameter.Type.BIAS,
                new Shape(kvOut))) : null;
        vWeight = addParameter(n.add(p + "self_attn.v_proj.weight", Parameter.Type.WEIGHT, new Shape(kvOut, d)));
        vBias = c.qkvBias() ? addParameter(n.add(p + "self_attn.v_proj.bias", Parameter.Type.BIAS,
                new Shape(kvOut))) : null;
        oWeight = addParameter(n.add(p + "self_attn.o_proj.weight", Parameter.Type.WEIGHT, new Shape(d, qOut)));
        oBias = c.outputBias() ? addParameter(n.add(p + "self_attn.o_proj.bias", Parameter.Type.BIAS,
                new Shape(d))) : null;
        postNorm = addParameter(n.add(p + "post_attention_layernorm.weight", Parameter.Type.GAMMA, new Shape(d)));
        gateWeight = addParameter(n.add(p + "mlp.gate_proj.weight", Parameter.Type.WEIGHT, new Shape(inter, d)));
        upWeight = addParameter(n.add(p + "mlp.up_proj.weight", Parameter.Type.WEIGHT, new Shape(inter, d)));
        downWeight = addParameter(n.add(p + "mlp.down_proj.weight", Parameter.Type.WEIGHT, new Shape(d, inter)));
    }

    /** A builder; {@code setConfig}, {@code setIndex} and {@code setNames} are required. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDArray x = inputs.get(0);  // (B, T, D)
        NDArray[] cosSin = {inputs.get(1), inputs.get(2)};  // 2 x (1 or B, 1, T, K)
        return new NDList(forward(ps, x, cosSin, null, 0, training));  // (B, T, D)
    }

    /**
     * The layer on {@code x (B, T, D)} at positions {@code [pos, pos + T)}, with that range's rotary
     * {@code cos} and {@code sin}; with a cache, attends over the cached positions too and writes this call's
     * rotated keys and values into it.
     *
     * @return (B, T, D)
     */
    public NDArray forward(ParameterStore ps, NDArray x, NDArray[] cosSin, HfKvCache cache, int pos,
                           boolean training) {
        return forward(ps, x, cosSin, null, cache, pos, training);
    }

    /**
     * As {@link #forward(ParameterStore, NDArray, NDArray[], HfKvCache, int, boolean)}, with per-row rotary
     * {@code cos} and {@code sin} (each (1 or B, 1, T, K)) and {@code keyBias (B, 1, 1, S)} masking padding
     * keys (see {@link CausalAttention#attend(NDArray, NDArray, NDArray, NDArray)}); null for none.
     */
    public NDArray forward(ParameterStore ps, NDArray x, NDArray[] cosSin, NDArray keyBias, HfKvCache cache,
                           int pos, boolean training) {
        Shape s = x.getShape();
        long b = s.get(0);
        long t = s.get(1);
        NDArray h = rmsNorm(x, value(ps, inputNorm, x, training), eps);  // (B, T, D)
        NDArray q = heads(linear(ps, h, qWeight, qBias, training), b, t, heads);  // (B, H, T, K)
        NDArray k = heads(linear(ps, h, kWeight, kBias, training), b, t, kvHeads);  // (B, Hkv, T, K)
        NDArray v = heads(linear(ps, h, vWeight, vBias, training), b, t, kvHeads);  // (B, Hkv, T, K)
        q = RotaryEmbedding.apply(q, cosSin[0], cosSin[1]);  // (B, H, T, K)
        k = RotaryEmbedding.apply(k, cosSin[0], cosSin[1]);  // (B, Hkv, T, K)
        if (cache != null) {
            NDArray[] kv = cache.append(index, k, v, pos);
            k = kv[0];  // (B, Hkv, S, K)
            v = kv[1];  // (B, Hkv, S, K)
        }
        NDArray attended = CausalAttention.attend(q, k, v, keyBias);  // (B, H, T, K)
        NDArray merged = attended.transpose(0, 2, 1, 3).reshape(b, t, (long) heads * headDim);  // (B, T, H*K)
        NDArray y = x.add(linear(ps, merged, oWeight, oBias, training));  // (B, T, D)
        NDArray m = rmsNorm(y, value(ps, postNorm, y, training), eps);  // (B, T, D)
        NDArray gate = linear(ps, m, gateWeight, null, training);  // (B, T, I)
        NDArray gated = gate.mul(Activation.sigmoid(gate))  // silu(gate_proj(m)), (B, T, I)
                .mul(linear(ps, m, upWeight, null, training));  // (B, T, I)
        return y.add(linear(ps, gated, downWeight, null, training));  // (B, T, D)
    }

    /**
     * {@code LlamaRMSNorm}: {@code weight · x / sqrt(mean(x²) + eps)} over the last axis, computed in float32
     * whatever the input's type, and cast back before the weight multiplies it.
     */
    public static NDArray rmsNorm(NDArray x, NDArray weight, float eps) {
        DataType type = x.getDataType();
        NDArray x32 = x.toType(DataType.FLOAT32, false);  // (…, D)
        NDArray variance = x32.square().mean(new int[] {-1}, true);  // (…, 1)
        NDArray normed = x32.div(variance.add(eps).sqrt()).toType(type, false);  // (…, D)
        // normed first: an operation's result belongs to its receiver's manager, and the weight's is the model's,
        // which lives as long as the model (every forward would leave one array there)
        return normed.mul(weight);  // (…, D)
    }

    private static NDArray heads(NDArray x, long b, long t, int n) {
        return x.reshape(b, t, n, -1).transpose(0, 2, 1, 3);  // (B, n, T, K)
    }

    private static NDArray linear(ParameterStore ps, NDArray x, Parameter w, Parameter bias, boolean training) {
        return TransformerLayer.linear(x, value(ps, w, x, training),
                bias == null ? null : value(ps, bias, x, training));  // (…, out)
    }

    private static NDArray value(ParameterStore ps, Parameter p, NDArray like, boolean training) {
        return ps.getValue(p, like.getDevice(), training);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    /** Builds a {@link LlamaLayer}. */
    public static final class Builder {
        private LlamaConfig config;
        private int index = -1;
        private NamedParameters names;

        private Builder() {
        }

        /** The model's config (required). */
        public Builder setConfig(LlamaConfig config) {
            this.config = config;
            return this;
        }

        /** The layer's index, the {@code i} of {@code model.layers.i.} (required). */
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
        public LlamaLayer build() {
            if (config == null || names == null || index < 0) {
                throw new IllegalArgumentException("LlamaLayer: setConfig, setIndex and setNames are required");
            }
            return new LlamaLayer(this);
        }
    }
}
