package io.streamrlhf.models.policy;

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
import io.streamrlhf.models.transformer.KvCache;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.models.transformer.TransformerTrunk;

/**
 * The policy network: a {@link TransformerTrunk}, an LM head (no bias) and a scalar value head.
 *
 * <table>
 *   <caption>Dimension letters</caption>
 *   <tr><td>B</td><td>batch</td></tr>
 *   <tr><td>T</td><td>sequence length</td></tr>
 *   <tr><td>D</td><td>model width</td></tr>
 *   <tr><td>V</td><td>vocabulary size</td></tr>
 * </table>
 *
 * <p>Inputs: {@code tokens (B, T)}, optional {@code mask (B, T)}. Outputs: {@code logits (B, T, V)}
 * and {@code values (B, T)}.
 */
public final class PolicyBlock extends AbstractBlock {

    private static final byte VERSION = 1;

    private final TransformerConfig config;
    private final TransformerTrunk trunk;
    private final Parameter lmHead;
    private final Parameter valueWeight;
    private final Parameter valueBias;

    private PolicyBlock(Builder b) {
        super(VERSION);
        this.config = b.config;
        trunk = addChildBlock("trunk", TransformerTrunk.builder().setConfig(config).build());
        lmHead = addParameter(Parameter.builder().setName("lm_head").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(config.vocabSize(), config.dModel())).build());
        valueWeight = addParameter(Parameter.builder().setName("value_weight").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(1, config.dModel())).build());
        valueBias = addParameter(Parameter.builder().setName("value_bias").setType(Parameter.Type.BIAS)
                .optShape(new Shape(1)).build());
    }

    /** A builder; {@code setConfig} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /** The model shape. */
    public TransformerConfig config() {
        return config;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDArray hidden = trunk.forward(ps, inputs, training).singletonOrThrow();  // (B, T, D)
        NDArray logits = Linear.linear(hidden, ps.getValue(lmHead, hidden.getDevice(), training))
                .singletonOrThrow();  // (B, T, V)
        // The value head as a broadcast product and a sum over D, not a matrix product: with one output its
        // backward is an outer product (B·T × 1 × D) that MKL ran at 0.5 GFLOP/s, 1.5 ms of a 120 ms PPO update,
        // where the element-wise form takes a few hundredths of that. Same arithmetic, summation order aside.
        NDArray w = ps.getValue(valueWeight, hidden.getDevice(), training);  // (1, D)
        NDArray values = hidden.mul(w).sum(new int[] {-1})
                .add(ps.getValue(valueBias, hidden.getDevice(), training));  // (B, T)
        return new NDList(logits, values);
    }

    /**
     * Decoding step with a KV cache: runs positions {@code [pos, pos + T)} and returns the logits of
     * the last of them only (the LM head is not applied to earlier prompt positions).
     *
     * @return (B, V)
     */
    public NDArray decodeLastLogits(ParameterStore ps, NDArray tokens, NDArray positions, NDArray bias,
                                    KvCache cache, int pos) {
        NDArray hidden = trunk.forwardCached(ps, tokens, positions, bias, cache, pos);  // (B, T, D)
        long t = hidden.getShape().get(1);
        NDArray last = t == 1 ? hidden.squeeze(1) : hidden.get(":, -1, :");  // (B, D)
        return Linear.linear(last, ps.getValue(lmHead, last.getDevice(), false)).singletonOrThrow();  // (B, V)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape tokens = inputShapes[0];
        return new Shape[] {new Shape(tokens.get(0), tokens.get(1), config.vocabSize()),
            new Shape(tokens.get(0), tokens.get(1))};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        trunk.initialize(manager, dataType, inputShapes);
    }

    /** Builds a {@link PolicyBlock}. */
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
        public PolicyBlock build() {
            if (config == null) {
                throw new IllegalArgumentException("PolicyBlock: setConfig(...) is required");
            }
            return new PolicyBlock(this);
        }
    }
}
