package io.streamrlhf.models.reward;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.models.transformer.TransformerTrunk;

/**
 * The reward network: a {@link TransformerTrunk} and a scalar head reading the hidden state of each
 * row's final real token (in a causal trunk that state has seen the whole sequence).
 *
 * <table>
 *   <caption>Dimension letters</caption>
 *   <tr><td>B</td><td>batch</td></tr>
 *   <tr><td>T</td><td>sequence length</td></tr>
 *   <tr><td>D</td><td>model width</td></tr>
 * </table>
 *
 * <p>Inputs: {@code tokens (B, T)} right-padded, optional {@code mask (B, T)}. Outputs:
 * {@code scores (B)} and {@code pooled (B, D)}.
 */
public final class RewardBlock extends AbstractBlock {

    private static final byte VERSION = 1;

    private final TransformerConfig config;
    private final TransformerTrunk trunk;
    private final Parameter scoreWeight;
    private final Parameter scoreBias;

    private RewardBlock(Builder b) {
        super(VERSION);
        this.config = b.config;
        trunk = addChildBlock("trunk", TransformerTrunk.builder().setConfig(config).build());
        scoreWeight = addParameter(Parameter.builder().setName("score_weight").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(1, config.dModel())).build());
        scoreBias = addParameter(Parameter.builder().setName("score_bias").setType(Parameter.Type.BIAS)
                .optShape(new Shape(1)).build());
    }

    /** A builder; {@code setConfig} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /** The trunk (e.g. to set its residual dropout for training). */
    public TransformerTrunk trunk() {
        return trunk;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDArray hidden = trunk.forward(ps, inputs, training).singletonOrThrow();  // (B, T, D)
        NDArray pooled;
        if (inputs.size() > 1) {
            NDArray mask = inputs.get(1).toType(DataType.FLOAT32, false);  // (B, T)
            long t = mask.getShape().get(1);
            NDArray last = mask.sum(new int[] {1}).sub(1).toType(DataType.INT64, false);  // (B)
            // one-hot select keeps it differentiable and exact (x*1 + 0s)
            NDArray pick = last.oneHot((int) t, DataType.FLOAT32).expandDims(-1);  // (B, T, 1)
            pooled = hidden.mul(pick).sum(new int[] {1});  // (B, D)
        } else {
            pooled = hidden.get(":, -1, :");  // (B, D)
        }
        NDArray scores = Linear.linear(pooled, ps.getValue(scoreWeight, pooled.getDevice(), training),
                ps.getValue(scoreBias, pooled.getDevice(), training)).singletonOrThrow().squeeze(-1);  // (B)
        return new NDList(scores, pooled);
    }

    /**
     * The score head applied at every position instead of at the final real token only: {@code scores (B, T)}
     * for {@code tokens (B, T)} and the optional {@code mask (B, T)} of {@link #forward}. At a row's final real
     * token it is that row's {@code scores} of {@link #forward}; elsewhere it is the head read at a prefix, what a
     * critic initialised from this reward model starts from (Secrets of RLHF I, 5.3.3). Outputs at padding are
     * meaningless.
     */
    public NDArray positionScores(ParameterStore ps, NDList inputs, boolean training) {
        NDArray hidden = trunk.forward(ps, inputs, training).singletonOrThrow();  // (B, T, D)
        return Linear.linear(hidden, ps.getValue(scoreWeight, hidden.getDevice(), training),
                ps.getValue(scoreBias, hidden.getDevice(), training)).singletonOrThrow().squeeze(-1);  // (B, T)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape tokens = inputShapes[0];
        return new Shape[] {new Shape(tokens.get(0)), new Shape(tokens.get(0), config.dModel())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        trunk.initialize(manager, dataType, inputShapes);
    }

    /** Builds a {@link RewardBlock}. */
    public static final class Builder {
        private TransformerConfig config;

        private Builder() {
        }

        /** Model shape (required). */
        public Builder setConfig(TransformerConfig config) {
            this.config = config;
            return this;
        }

        /** Checks the settings and builds the block. */
        public RewardBlock build() {
            if (config == null) {
                throw new IllegalArgumentException("RewardBlock: setConfig(...) is required");
            }
            return new RewardBlock(this);
        }
    }
}
