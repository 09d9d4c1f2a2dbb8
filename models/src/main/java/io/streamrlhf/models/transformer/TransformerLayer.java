package io.streamrlhf.models.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * One pre-LayerNorm transformer layer: causal multi-head self-attention, then a 4x GELU MLP, each
 * added to the residual stream. Same arithmetic as PyTorch's {@code nn.LayerNorm}, {@code nn.Linear}
 * and exact {@code nn.GELU}.
 *
 * <table>
 *   <caption>Dimension letters</caption>
 *   <tr><td>B</td><td>batch</td></tr>
 *   <tr><td>T</td><td>query positions in this call</td></tr>
 *   <tr><td>S</td><td>key positions attended to (T for a full forward, cache length when decoding)</td></tr>
 *   <tr><td>D</td><td>model width</td></tr>
 *   <tr><td>H</td><td>heads</td></tr>
 *   <tr><td>K</td><td>head width, D / H</td></tr>
 * </table>
 *
 * <p>Inputs of {@link #forward}: {@code x (B, T, D)} and an additive attention bias
 * {@code (B or 1, 1, T, T)} holding 0 where attention is allowed and -inf elsewhere. Output:
 * {@code (B, T, D)}. {@link #forwardCached} is the incremental form used by the sampler.
 *
 * <p>Optional residual dropout (GPT-2's {@code resid_pdrop}): with a rate p &gt; 0, the attention output and the
 * MLP output are each passed through inverted dropout before they are added to the residual stream, in training
 * forwards only ({@code training == true}); inference and {@link #forwardCached} never drop. The rate is a runtime
 * setting, not part of the weights or the checkpoint; default 0, where the arithmetic is exactly the plain layer's.
 * The reward-model trainer uses it for SimCSE's dropout views (Secrets of RLHF Part II §4.1).
 */
public final class TransformerLayer extends AbstractBlock {

    private static final byte VERSION = 1;
    private static final float LN_EPS = 1e-5f;

    private final int dModel;
    private final int heads;
    private final Parameter ln1Gamma;
    private final Parameter ln1Beta;
    private final Parameter qkvWeight;
    private final Parameter qkvBias;
    private final Parameter projWeight;
    private final Parameter projBias;
    private final Parameter ln2Gamma;
    private final Parameter ln2Beta;
    private final Parameter fc1Weight;
    private final Parameter fc1Bias;
    private final Parameter fc2Weight;
    private final Parameter fc2Bias;
    // Read by forward on whichever thread trains; set between steps.
    private volatile float residualDropout;

    private TransformerLayer(Builder b) {
        super(VERSION);
        this.dModel = b.dModel;
        this.heads = b.heads;
        this.residualDropout = b.residualDropout;
        int d = dModel;
        ln1Gamma = addParameter(param("ln1_gamma", Parameter.Type.GAMMA, new Shape(d)));
        ln1Beta = addParameter(param("ln1_beta", Parameter.Type.BETA, new Shape(d)));
        qkvWeight = addParameter(param("qkv_weight", Parameter.Type.WEIGHT, new Shape(3L * d, d)));
        qkvBias = addParameter(param("qkv_bias", Parameter.Type.BIAS, new Shape(3L * d)));
        projWeight = addParameter(param("proj_weight", Parameter.Type.WEIGHT, new Shape(d, d)));
        projBias = addParameter(param("proj_bias", Parameter.Type.BIAS, new Shape(d)));
        ln2Gamma = addParameter(param("ln2_gamma", Parameter.Type.GAMMA, new Shape(d)));
        ln2Beta = addParameter(param("ln2_beta", Parameter.Type.BETA, new Shape(d)));
        fc1Weight = addParameter(param("fc1_weight", Parameter.Type.WEIGHT, new Shape(4L * d, d)));
        fc1Bias = addParameter(param("fc1_bias", Parameter.Type.BIAS, new Shape(4L * d)));
        fc2Weight = addParameter(param("fc2_weight", Parameter.Type.WEIGHT, new Shape(d, 4L * d)));
        fc2Bias = addParameter(param("fc2_bias", Parameter.Type.BIAS, new Shape(d)));
    }

    static Parameter param(String name, Parameter.Type type, Shape shape) {
        return Parameter.builder().setName(name).setType(type).optShape(shape).build();
    }

    /** The residual dropout rate p (0: off). */
    public float residualDropout() {
        return residualDropout;
    }

    /**
     * Sets the residual dropout rate p, applied in training forwards only (see the class comment). Set it between
     * steps, not during a forward.
     *
     * @throws IllegalArgumentException unless 0 &lt;= p &lt; 1
     */
    public void setResidualDropout(float rate) {
        this.residualDropout = checkRate(rate);
    }

    static float checkRate(float rate) {
        if (!(rate >= 0 && rate < 1)) {
            throw new IllegalArgumentException("TransformerLayer: residual dropout rate must be in [0, 1), got "
                    + rate);
        }
        return rate;
    }

    /** A builder; {@code setDModel} and {@code setHeads} are required. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDArray x = inputs.get(0);  // (B, T, D)
        NDArray bias = inputs.size() > 1 ? inputs.get(1) : null;  // (B|1, 1, T, T)
        Shape s = x.getShape();
        long b = s.get(0);
        long t = s.get(1);
        NDArray[] qkv = projectQkv(ps, x, training, b, t);  // 3 x (B, H, T, K)
        NDArray attended = attend(qkv[0], qkv[1], qkv[2], bias);  // (B, H, T, K)
        return new NDList(finish(ps, x, attended, training, b, t));  // (B, T, D)
    }

    /**
     * Incremental forward: writes this call's keys and values into the caches at
     * {@code [pos, pos + T)} and attends over {@code [0, pos + T)}.
     *
     * @param x      (B, T, D)
     * @param bias   (B|1, 1, T, pos + T) additive mask, or {@code null} when every cached key is visible
     *               to every query (no padding and T = 1)
     * @param cacheK (B, H, K, Smax) preallocated keys, transposed, written in place
     * @param cacheV (B, H, Smax, K) preallocated values, written in place
     * @param pos    first position written
     * @return (B, T, D)
     */
    public NDArray forwardCached(ParameterStore ps, NDArray x, NDArray bias, NDArray cacheK, NDArray cacheV,
                                 int pos) {
        Shape s = x.getShape();
        long b = s.get(0);
        long t = s.get(1);
        NDArray[] qkv = projectQkv(ps, x, false, b, t);  // 3 x (B, H, T, K)
        // Keys are cached transposed, (B, H, K, Smax): the score product then reads a plain
        // row-major slice, which the batched GEMM handles faster than a transposed view.
        writeSlice(cacheK, qkv[1].transpose(0, 1, 3, 2), 3, pos, pos + t);
        writeSlice(cacheV, qkv[2], 2, pos, pos + t);
        NDArray kt = cacheK.get(new NDIndex().addAllDim(3).addSliceDim(0, pos + t));  // (B, H, K, S)
        NDArray v = cacheV.get(new NDIndex().addAllDim(2).addSliceDim(0, pos + t));  // (B, H, S, K)
        NDArray scores = qkv[0].matMul(kt);  // (B, H, T, S)
        if (bias != null) {
            scores = scores.add(bias);  // (B, H, T, S)
        }
        NDArray attended = scores.softmax(-1).matMul(v);  // (B, H, T, K)
        return finish(ps, x, attended, false, b, t);  // (B, T, D)
    }

    /**
     * {@code target[..., from:to, ...] = value} along {@code axis}, in place. On PyTorch this goes
     * straight to a strided slice copy: DJL's generic {@code set(NDIndex, NDArray)} takes the
     * advanced-indexing path, which profiling showed costing ~9% of a decoding step.
     */
    private static void writeSlice(NDArray target, NDArray value, int axis, long from, long to) {
        if (target instanceof PtNDArray pt && value instanceof PtNDArray v) {
            Shape shape = target.getShape();
            long[] min = new long[shape.dimension()];
            long[] max = shape.getShape();
            long[] step = new long[shape.dimension()];
            java.util.Arrays.fill(step, 1);
            min[axis] = from;
            max[axis] = to;
            JniUtils.indexSet(pt, v, min, max, step);
        } else {
            target.set(new NDIndex().addAllDim(axis).addSliceDim(from, to), value);
        }
    }

    private NDArray[] projectQkv(ParameterStore ps, NDArray x, boolean training, long b, long t) {
        NDArray h = layerNorm(ps, x, ln1Gamma, ln1Beta, training);  // (B, T, D)
        NDArray qkv = linear(h, value(ps, qkvWeight, x, training), value(ps, qkvBias, x, training));  // (B, T, 3D)
        // Split, not select: the backward of a split is one concatenation, while each select's backward
        // writes its gradient into a zero tensor the size of all three (measured: ~5 % of a PPO update).
        NDList parts = qkv.split(3, 2);  // 3 x (B, T, D)
        NDArray[] out = new NDArray[3];
        for (int i = 0; i < 3; i++) {
            out[i] = parts.get(i).reshape(b, t, heads, dModel / heads).transpose(0, 2, 1, 3);  // (B, H, T, K)
        }
        // Scale queries, not scores: T*K multiplies instead of T*S.
        out[0] = out[0].mul(1.0 / Math.sqrt((double) dModel / heads));  // (B, H, T, K)
        return out;
    }

    private static NDArray attend(NDArray q, NDArray k, NDArray v, NDArray bias) {
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2));  // (B, H, T, S)
        if (bias != null) {
            scores = scores.add(bias);  // (B, H, T, S)
        }
        return scores.softmax(-1).matMul(v);  // (B, H, T, K)
    }

    private NDArray finish(ParameterStore ps, NDArray x, NDArray attended, boolean training, long b, long t) {
        NDArray merged = attended.transpose(0, 2, 1, 3).reshape(b, t, dModel);  // (B, T, D)
        NDArray proj = linear(merged, value(ps, projWeight, x, training), value(ps, projBias, x, training));  // (B, T, D)
        NDArray y = x.add(residualDropout(proj, training));  // (B, T, D)
        NDArray h = layerNorm(ps, y, ln2Gamma, ln2Beta, training);  // (B, T, D)
        NDArray up = linear(h, value(ps, fc1Weight, x, training), value(ps, fc1Bias, x, training));  // (B, T, 4D)
        NDArray down = linear(Activation.gelu(up), value(ps, fc2Weight, x, training),
                value(ps, fc2Bias, x, training));  // (B, T, D)
        return y.add(residualDropout(down, training));  // (B, T, D)
    }

    /** Inverted dropout of a branch's output in training forwards when the rate is above 0; else the input. */
    private NDArray residualDropout(NDArray branch, boolean training) {
        float p = residualDropout;
        if (!training || p == 0) {
            return branch;
        }
        return Dropout.dropout(branch, p, true).singletonOrThrow();  // (B, T, D)
    }

    /**
     * {@code x·Wᵀ + b} over the last axis of {@code x (…, in)} with {@code w (out, in)}. Inputs of
     * more than two axes go through a 2-D view: libtorch's C++ {@code linear} fuses the bias into
     * the matrix product ({@code addmm}) only for 2-D inputs, and otherwise adds it in a separate
     * kernel over the whole output (and sums it again in the backward).
     */
    public static NDArray linear(NDArray x, NDArray w, NDArray b) {
        Shape s = x.getShape();
        int last = s.dimension() - 1;
        if (last <= 1) {
            return Linear.linear(x, w, b).singletonOrThrow();
        }
        NDArray y = Linear.linear(x.reshape(-1, s.get(last)), w, b).singletonOrThrow();  // (…, out) flattened
        return y.reshape(s.slice(0, last).add(w.getShape().get(0)));
    }

    private NDArray layerNorm(ParameterStore ps, NDArray x, Parameter gamma, Parameter beta, boolean training) {
        return LayerNorm.layerNorm(x, new Shape(dModel), value(ps, gamma, x, training), value(ps, beta, x, training),
                LN_EPS).singletonOrThrow();
    }

    static NDArray value(ParameterStore ps, Parameter p, NDArray like, boolean training) {
        return ps.getValue(p, like.getDevice(), training);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    /** Builds a {@link TransformerLayer}. */
    public static final class Builder {
        private int dModel;
        private int heads;
        private float residualDropout;

        private Builder() {
        }

        /** Model width D (required). */
        public Builder setDModel(int dModel) {
            this.dModel = dModel;
            return this;
        }

        /** Number of heads H (required; must divide D). */
        public Builder setHeads(int heads) {
            this.heads = heads;
            return this;
        }

        /** Residual dropout rate p in [0, 1) (optional, default 0; training forwards only). */
        public Builder optResidualDropout(float rate) {
            this.residualDropout = rate;
            return this;
        }

        /** Checks the settings and builds the layer. */
        public TransformerLayer build() {
            checkRate(residualDropout);
            if (dModel <= 0) {
                throw new IllegalArgumentException("TransformerLayer: setDModel(...) is required and must be > 0");
            }
            if (heads <= 0 || dModel % heads != 0) {
                throw new IllegalArgumentException("TransformerLayer: setHeads(...) is required and must divide dModel "
                        + dModel + ", got " + heads);
            }
            return new TransformerLayer(this);
        }
    }

}
