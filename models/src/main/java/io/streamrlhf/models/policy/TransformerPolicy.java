package io.streamrlhf.models.policy;

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
import io.streamrlhf.models.transformer.KvCache;
import io.streamrlhf.models.transformer.SeededInitializer;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.util.Map;

/**
 * Our policy: a {@link PolicyBlock} with its own native memory, created from a seed or a
 * checkpoint. Training runs through {@link #forward}; the sampler decodes through
 * {@link #decodeLastLogits} with a KV cache.
 */
public final class TransformerPolicy implements PolicyModel {

    /** Architecture name in checkpoints. */
    public static final String ARCHITECTURE = "transformer";

    private final TransformerConfig config;
    private final NDManager manager;
    private final PolicyBlock block;
    private final ParameterStore parameterStore;

    private TransformerPolicy(TransformerConfig config, Device device, long seed) {
        this.config = config;
        this.manager = ModelRuntime.init().newBaseManager(device);
        this.block = PolicyBlock.builder().setConfig(config).build();
        block.setInitializer(new SeededInitializer(seed, 0.02), Parameter.Type.WEIGHT);
        block.initialize(manager, DataType.FLOAT32, new Shape(1, config.contextLength()));
        this.parameterStore = new ParameterStore(manager, false);
    }

    /** A freshly initialised policy on {@link ModelRuntime#device()}. */
    public static TransformerPolicy create(TransformerConfig config, long seed) {
        return new TransformerPolicy(config, ModelRuntime.device(), seed);
    }

    /** A freshly initialised policy on the given device. */
    public static TransformerPolicy create(TransformerConfig config, long seed, Device device) {
        return new TransformerPolicy(config, device, seed);
    }

    /** A policy holding a checkpoint's weights, on {@link ModelRuntime#device()}, ready to train. */
    public static TransformerPolicy fromCheckpoint(Checkpoint checkpoint) {
        return fromCheckpoint(checkpoint, ModelRuntime.device());
    }

    /** A policy holding a checkpoint's weights, on the given device, ready to train. */
    public static TransformerPolicy fromCheckpoint(Checkpoint checkpoint, Device device) {
        check(checkpoint, null);
        TransformerPolicy policy = new TransformerPolicy(checkpoint.config(), device, 0);
        try {
            ModelWeights.copyInto(policy.block, checkpoint.weights());
        } catch (RuntimeException e) {
            policy.close();
            throw e;
        }
        return policy;
    }

    /** This policy's weights as a checkpoint (optimiser state may be {@code null}). */
    @Override
    public Checkpoint toCheckpoint(Map<String, String> metadata, byte[] optimizerState) {
        return new Checkpoint(ModelKind.POLICY, ARCHITECTURE, config, ModelWeights.encode(block), optimizerState,
                metadata);
    }

    /**
     * Hot swap: copies a checkpoint's weights into this running policy in place. Refused (and
     * nothing changed) if the checkpoint is not a policy of the same shape. Call it between
     * batches: a forward running on another thread during the copy would read a mix of old and
     * new weights.
     */
    @Override
    public void loadWeights(Checkpoint checkpoint) {
        check(checkpoint, config);
        ModelWeights.copyInto(block, checkpoint.weights());
    }

    private static void check(Checkpoint checkpoint, TransformerConfig expected) {
        if (checkpoint.kind() != ModelKind.POLICY) {
            throw new CheckpointException("checkpoint holds a " + checkpoint.kind() + ", not a POLICY");
        }
        if (!ARCHITECTURE.equals(checkpoint.architecture())) {
            throw new CheckpointException("checkpoint architecture is '" + checkpoint.architecture()
                    + "', expected '" + ARCHITECTURE + "'");
        }
        if (expected != null && !expected.equals(checkpoint.config())) {
            throw new CheckpointException("checkpoint config " + checkpoint.config() + " does not match the running "
                    + "policy's " + expected);
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
    public PolicyBlock block() {
        return block;
    }

    @Override
    public NDManager manager() {
        return manager;
    }

    @Override
    public PolicyOutput forward(NDArray tokens, NDArray attentionMask, boolean training) {
        NDList in = attentionMask == null ? new NDList(tokens) : new NDList(tokens, attentionMask);
        NDList out = block.forward(parameterStore, in, training);
        return new PolicyOutput(out.get(0), out.get(1));  // (B, T, V), (B, T)
    }

    /**
     * One decoding step with a KV cache (see {@link PolicyBlock#decodeLastLogits}).
     *
     * @return logits of the last fed position, (B, V)
     */
    public NDArray decodeLastLogits(NDArray tokens, NDArray positions, NDArray bias, KvCache cache, int pos) {
        return block.decodeLastLogits(parameterStore, tokens, positions, bias, cache, pos);
    }

    @Override
    public TransformerPolicy referenceCopy() {
        TransformerPolicy copy = new TransformerPolicy(config, manager.getDevice(), 0);
        ModelWeights.copy(block, copy.block);
        copy.freeze(true);
        return copy;
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
