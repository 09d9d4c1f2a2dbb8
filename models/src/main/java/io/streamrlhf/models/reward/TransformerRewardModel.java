package io.streamrlhf.models.reward;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.ModelKind;
import io.streamrlhf.models.checkpoint.ModelWeights;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.transformer.SeededInitializer;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.util.Map;

/** Our reward model: a {@link RewardBlock} with its own native memory. */
public final class TransformerRewardModel implements RewardModel, ResidualDropout {

    /** Architecture name in checkpoints. */
    public static final String ARCHITECTURE = "transformer";

    private final TransformerConfig config;
    private final NDManager manager;
    private final RewardBlock block;
    private final ParameterStore parameterStore;

    private TransformerRewardModel(TransformerConfig config, Device device, long seed) {
        this.config = config;
        this.manager = ModelRuntime.init().newBaseManager(device);
        this.block = RewardBlock.builder().setConfig(config).build();
        block.setInitializer(new SeededInitializer(seed, 0.02), Parameter.Type.WEIGHT);
        block.initialize(manager, DataType.FLOAT32, new Shape(1, config.contextLength()));
        this.parameterStore = new ParameterStore(manager, false);
    }

    /** A freshly initialised reward model on {@link ModelRuntime#device()}. */
    public static TransformerRewardModel create(TransformerConfig config, long seed) {
        return new TransformerRewardModel(config, ModelRuntime.device(), seed);
    }

    /** A reward model holding a checkpoint's weights, ready to train. */
    public static TransformerRewardModel fromCheckpoint(Checkpoint checkpoint) {
        check(checkpoint, null);
        TransformerRewardModel rm = new TransformerRewardModel(checkpoint.config(), ModelRuntime.device(), 0);
        try {
            ModelWeights.copyInto(rm.block, checkpoint.weights());
        } catch (RuntimeException e) {
            rm.close();
            throw e;
        }
        return rm;
    }

    /** This model's weights as a checkpoint (optimiser state may be {@code null}). */
    public Checkpoint toCheckpoint(Map<String, String> metadata, byte[] optimizerState) {
        return new Checkpoint(ModelKind.REWARD_MODEL, ARCHITECTURE, config, ModelWeights.encode(block),
                optimizerState, metadata);
    }

    /**
     * Hot swap: copies a checkpoint's weights into this running model in place; refused (and
     * nothing changed) on another kind or shape. Call it between batches, not during a forward.
     */
    public void loadWeights(Checkpoint checkpoint) {
        check(checkpoint, config);
        ModelWeights.copyInto(block, checkpoint.weights());
    }

    private static void check(Checkpoint checkpoint, TransformerConfig expected) {
        if (checkpoint.kind() != ModelKind.REWARD_MODEL) {
            throw new CheckpointException("checkpoint holds a " + checkpoint.kind() + ", not a REWARD_MODEL");
        }
        if (!ARCHITECTURE.equals(checkpoint.architecture())) {
            throw new CheckpointException("checkpoint architecture is '" + checkpoint.architecture()
                    + "', expected '" + ARCHITECTURE + "'");
        }
        if (expected != null && !expected.equals(checkpoint.config())) {
            throw new CheckpointException("checkpoint config " + checkpoint.config()
                    + " does not match the running reward model's " + expected);
        }
    }

    @Override
    public String architecture() {
        return ARCHITECTURE;
    }

    @Override
    public TransformerConfig config() {
        return config;
    }

    @Override
    public RewardBlock block() {
        return block;
    }

    @Override
    public NDManager manager() {
        return manager;
    }

    @Override
    public RewardOutput forward(NDArray tokens, NDArray attentionMask, boolean training) {
        NDList in = attentionMask == null ? new NDList(tokens) : new NDList(tokens, attentionMask);
        NDList out = block.forward(parameterStore, in, training);
        return new RewardOutput(out.get(0), out.get(1));  // (B), (B, D)
    }

    /** The trunk's residual dropout rate. */
    @Override
    public float residualDropout() {
        return block.trunk().residualDropout();
    }

    /** Sets the trunk's residual dropout rate (every layer's attention and MLP branches). */
    @Override
    public void setResidualDropout(float rate) {
        block.trunk().setResidualDropout(rate);
    }

    @Override
    public void freeze(boolean frozen) {
        block.freezeParameters(frozen);
    }

    @Override
    public void close() {
        manager.close();
    }
}
