package io.streamrlhf.models.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * What the architectures' top blocks share: the table of parameters by checkpoint name, the plain and cached
 * entry points (both run {@link #forward}), the position limit and the output shape (B, T, V).
 */
public abstract class CausalLmBase extends AbstractBlock implements CausalLmBlock {

    private final NamedParameters names = new NamedParameters();
    private final int vocabSize;
    private final int positions;
    private final String positionsSetting;

    /**
     * @param positions        the most positions the model runs
     * @param positionsSetting the config field that sets them, for messages
     */
    protected CausalLmBase(byte version, int vocabSize, int positions, String positionsSetting) {
        super(version);
        this.vocabSize = vocabSize;
        this.positions = positions;
        this.positionsSetting = positionsSetting;
    }

    @Override
    public NamedParameters namedParameters() {
        return names;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        return new NDList(forward(ps, inputs.get(0), null, 0, training));  // (B, T, V)
    }

    @Override
    public NDArray forwardCached(ParameterStore ps, NDArray tokens, HfKvCache cache, int pos) {
        return forward(ps, tokens, cache, pos, false);  // (B, T, V)
    }

    /**
     * Logits (B, T, V) of {@code tokens (B, T)} at positions {@code [pos, pos + T)}; with a cache, attending
     * over the cached positions and writing this call's keys and values into it.
     */
    protected abstract NDArray forward(ParameterStore ps, NDArray tokens, HfKvCache cache, int pos,
                                       boolean training);

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
