package io.streamrlhf.models.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * What the architectures' top blocks share: the table of parameters by checkpoint name, the plain and cached
 * entry points (both run {@link #forward}), the final hidden states without the output projection
 * ({@link #hiddenStates}), the attention mask of a left-padded batch turned into position ids and a key bias,
 * the position limit and the output shape (B, T, V), or (B, T, N) for a sequence-classification block whose
 * output projection is the {@value #SCORE_WEIGHT} head of N labels.
 *
 * <p>The block's {@code forward} takes {@code tokens (B, T)} and optionally, as a second input, the
 * {@code attention_mask (B, T)} (1 for a real token, 0 for left padding), as transformers takes them.
 *
 * <p>Optional residual dropout ({@link #setResidualDropout}, off by default): in training forwards each layer's
 * update of the residual stream ({@code layer(x) − x}, the sum of its attention and MLP branches) passes through
 * inverted dropout before it is added. The reward-model trainer turns it on for SimCSE's dropout views (Secrets of
 * RLHF Part II §4.1); at 0 the forward is exactly the model's own.
 */
public abstract class CausalLmBase extends AbstractBlock implements CausalLmBlock {

    /** The score head of transformers' {@code *ForSequenceClassification} classes, (num_labels, D). */
    public static final String SCORE_WEIGHT = "score.weight";

    private final NamedParameters names = new NamedParameters();
    private final int vocabSize;
    private final int positions;
    private final String positionsSetting;
    private volatile float residualDropout;

    /**
     * @param vocabSize        the width of the output projection (V, or the score head's labels)
     * @param positions        the most positions the model runs
     * @param positionsSetting the config field that sets them, for messages
     */
    protected CausalLmBase(byte version, int vocabSize, int positions, String positionsSetting) {
        super(version);
        this.vocabSize = vocabSize;
        this.positions = positions;
        this.positionsSetting = positionsSetting;
    }

    /** The residual dropout rate p (0: off). */
    public float residualDropout() {
        return residualDropout;
    }

    /**
     * Sets the residual dropout rate p, applied in training forwards only (see the class comment). Set it between
     * forwards, not during one.
     *
     * @throws IllegalArgumentException when p is not in [0, 1)
     */
    public void setResidualDropout(float rate) {
        if (!(rate >= 0 && rate < 1)) {
            throw new IllegalArgumentException("residual dropout rate must be in [0, 1), got " + rate);
        }
        this.residualDropout = rate;
    }

    /**
     * The residual stream after a layer: {@code after} itself, or in a training forward with residual dropout on,
     * {@code before + dropout(after − before)}.
     *
     * @param before the layer's input (B, T, D)
     * @param after  the layer's output (B, T, D)
     */
    protected NDArray residualDropout(NDArray before, NDArray after, boolean training) {
        float p = residualDropout;
        if (!training || p == 0) {
            return after;
        }
        return before.add(Dropout.dropout(after.sub(before), p, true).singletonOrThrow());  // (B, T, D)
    }

    @Override
    public NamedParameters namedParameters() {
        return names;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDArray attentionMask = inputs.size() > 1 ? inputs.get(1) : null;  // (B, T)
        return new NDList(masked(ps, inputs.get(0), attentionMask, null, 0, training, false));  // (B, T, V)
    }

    /**
     * The final hidden states (B, T, D) of {@code tokens (B, T)}, after the final norm and before the output
     * projection (what transformers' base model returns); {@code attentionMask (B, T)} of a left-padded batch,
     * or null, as in {@link #forward}.
     */
    public NDArray hiddenStates(ParameterStore ps, NDArray tokens, NDArray attentionMask, boolean training) {
        return masked(ps, tokens, attentionMask, null, 0, training, true);  // (B, T, D)
    }

    @Override
    public NDArray forwardCached(ParameterStore ps, NDArray tokens, HfKvCache cache, int pos) {
        return masked(ps, tokens, null, cache, pos, false, false);  // (B, T, V)
    }

    @Override
    public NDArray forwardCached(ParameterStore ps, NDArray tokens, NDArray attentionMask, HfKvCache cache,
                                 int pos) {
        return masked(ps, tokens, attentionMask, cache, pos, false, false);  // (B, T, V)
    }

    @Override
    public NDArray forwardCachedLast(ParameterStore ps, NDArray tokens, NDArray attentionMask, HfKvCache cache,
                                     int pos) {
        NDArray hidden = masked(ps, tokens, attentionMask, cache, pos, false, true);  // (B, T, D)
        long t = hidden.getShape().get(1);
        NDArray last = t == 1 ? hidden
                : hidden.get(new NDIndex().addAllDim().addSliceDim(t - 1, t));  // (B, 1, D)
        return project(ps, last, false);  // (B, 1, V)
    }

    /**
     * Turns {@code attentionMask (B, pos + T)} into this call's position ids and key bias, as transformers does
     * for a left-padded batch: {@code position_ids = cumsum(mask) - 1} clamped at 0 (a row's first real token
     * is at position 0), and padding keys masked for every query. Without a mask, positions are
     * {@code [pos, pos + T)} for every row and no key is masked.
     */
    private NDArray masked(ParameterStore ps, NDArray tokens, NDArray attentionMask, HfKvCache cache, int pos,
                           boolean training, boolean hiddenOnly) {
        Shape ts = tokens.getShape();
        long b = ts.get(0);
        long t = ts.get(1);
        checkPositions(pos, t);
        if (attentionMask == null) {
            return run(ps, tokens, null, null, cache, pos, training, hiddenOnly);  // (B, T, V)
        }
        Shape ms = attentionMask.getShape();
        if (ms.dimension() != 2 || ms.get(0) != b || ms.get(1) != pos + t) {
            throw new IllegalArgumentException("attention mask " + ms + " does not cover the " + (pos + t)
                    + " positions of " + b + " rows (cached " + pos + " plus " + t + ")");
        }
        NDArray mask = attentionMask.toType(DataType.INT64, false);  // (B, S)
        NDArray positionIds = mask.cumSum(1).sub(1).maximum(0)
                .get(new NDIndex().addAllDim().addSliceDim(pos, pos + t));  // (B, T)
        // transformers' additive mask: the dtype's lowest value, finite, so that a padding query, which sees
        // only padding keys, still gets a finite softmax (a NaN there would reach real rows through 0 · NaN)
        NDArray keyBias = mask.toType(DataType.FLOAT32, false).sub(1).mul(Float.MAX_VALUE)
                .reshape(b, 1, 1, pos + t);  // (B, 1, 1, S)
        return run(ps, tokens, positionIds, keyBias, cache, pos, training, hiddenOnly);  // (B, T, V)
    }

    private NDArray run(ParameterStore ps, NDArray tokens, NDArray positionIds, NDArray keyBias, HfKvCache cache,
                        int pos, boolean training, boolean hiddenOnly) {
        return hiddenOnly ? hidden(ps, tokens, positionIds, keyBias, cache, pos, training)  // (B, T, D)
                : forward(ps, tokens, positionIds, keyBias, cache, pos, training);  // (B, T, V)
    }

    /**
     * The final hidden states (B, T, D) and the logits (B, T, V) they give, from one pass: what a policy with a value
     * head over the hidden states needs. Arguments as {@link #hiddenStates}.
     */
    public NDList hiddenAndLogits(ParameterStore ps, NDArray tokens, NDArray attentionMask, boolean training) {
        NDArray hidden = hiddenStates(ps, tokens, attentionMask, training);  // (B, T, D)
        return new NDList(hidden, project(ps, hidden, training));  // (B, T, D), (B, T, V)
    }

    /**
     * Logits (B, T, V) of {@code tokens (B, T)}; with a cache, attending over the cached positions and writing
     * this call's keys and values into it.
     *
     * @param positionIds per-row positions (B, T), or null for {@code [pos, pos + T)} in every row
     * @param keyBias     (B, 1, 1, S) added to the attention scores (padding keys), or null for none
     * @param pos         the cache slot of this call's first token (and its position when positionIds is null)
     */
    protected NDArray forward(ParameterStore ps, NDArray tokens, NDArray positionIds, NDArray keyBias,
                              HfKvCache cache, int pos, boolean training) {
        NDArray h = hidden(ps, tokens, positionIds, keyBias, cache, pos, training);  // (B, T, D)
        return project(ps, h, training);  // (B, T, V)
    }

    /** The output projection (the LM head, tied or not, or the score head) of hidden states (B, T, D): (B, T, V). */
    protected abstract NDArray project(ParameterStore ps, NDArray hidden, boolean training);

    /**
     * The final hidden states (B, T, D) after the final norm, as {@link #forward} computes them before its output
     * projection; the parameters are those of {@link #forward}.
     */
    protected abstract NDArray hidden(ParameterStore ps, NDArray tokens, NDArray positionIds, NDArray keyBias,
                                      HfKvCache cache, int pos, boolean training);

    /** Refuses positions beyond the config's limit. */
    protected void checkPositions(int pos, long t) {
        if (pos + t > positions) {
            throw new IllegalArgumentException("positions up to " + (pos + t) + " exceed " + positionsSetting + " "
                    + positions);
        }
    }

    /** A parameter's array on {@code like}'s device. */
    protected static NDArray value(ParameterStore ps, Parameter p, NDArray like, boolean training) {
        return ps.getValue(p, like.getDevice(), training);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        return new Shape[] {new Shape(in.get(0), in.get(1), vocabSize)};
    }
}
