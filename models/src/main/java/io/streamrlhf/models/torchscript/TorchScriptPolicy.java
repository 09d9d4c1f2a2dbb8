package io.streamrlhf.models.torchscript;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.ModelKind;
import io.streamrlhf.models.checkpoint.ModelWeights;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.policy.PolicyOutput;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A user's TorchScript policy behind {@link PolicyModel}.
 *
 * <p>Contract of the TorchScript module: {@code forward(tokens: int64 (B, T), attention_mask:
 * float32 (B, T)) -> (logits (B, T, V), values (B, T))}, causal, logits at t scoring token t + 1.
 * The {@link TransformerConfig} is the user's statement of its shape (vocabulary and context are
 * what callers rely on). Sampling goes through full forward passes (no KV cache: the module's
 * internals are opaque), so it is slower than our own policy.
 *
 * <p>Checkpoints hold the weights plus the source file's path in metadata
 * ({@value #SOURCE_KEY}); {@link #fromCheckpoint} reloads that file and copies the weights in.
 */
public final class TorchScriptPolicy implements PolicyModel {

    /** Architecture name in checkpoints. */
    public static final String ARCHITECTURE = "torchscript";
    /** Checkpoint metadata key holding the TorchScript file the weights belong to. */
    public static final String SOURCE_KEY = "torchscript.file";

    private final TorchScriptModule module;
    private final TransformerConfig config;

    private TorchScriptPolicy(TorchScriptModule module, TransformerConfig config) {
        this.module = module;
        this.config = config;
    }

    /**
     * Loads a TorchScript policy on {@link ModelRuntime#device()}.
     *
     * @param file      the {@code .pt} file
     * @param config    its shape
     * @param trainable true to take gradients (training), false for a frozen model (inference)
     */
    public static TorchScriptPolicy load(Path file, TransformerConfig config, boolean trainable) {
        return load(file, config, trainable, ModelRuntime.device());
    }

    /** Loads a TorchScript policy on the given device. */
    public static TorchScriptPolicy load(Path file, TransformerConfig config, boolean trainable, Device device) {
        TorchScriptPolicy policy = new TorchScriptPolicy(TorchScriptModule.load(file, device), config);
        policy.freeze(!trainable);
        return policy;
    }

    /** Rebuilds a policy from a checkpoint this adapter wrote: reloads the source file, copies the weights. */
    public static TorchScriptPolicy fromCheckpoint(Checkpoint checkpoint, boolean trainable) {
        if (checkpoint.kind() != ModelKind.POLICY || !ARCHITECTURE.equals(checkpoint.architecture())) {
            throw new CheckpointException("checkpoint is a " + checkpoint.kind() + "/" + checkpoint.architecture()
                    + ", not a " + ModelKind.POLICY + "/" + ARCHITECTURE);
        }
        String source = checkpoint.metadata().get(SOURCE_KEY);
        if (source == null) {
            throw new CheckpointException("TorchScript policy checkpoint lacks metadata '" + SOURCE_KEY + "'");
        }
        TorchScriptPolicy policy = load(Path.of(source), checkpoint.config(), trainable);
        try {
            ModelWeights.copyInto(policy.block(), checkpoint.weights());
        } catch (RuntimeException e) {
            policy.close();
            throw e;
        }
        return policy;
    }

    /** This policy's weights as a checkpoint; the metadata gains {@value #SOURCE_KEY}. */
    public Checkpoint toCheckpoint(Map<String, String> metadata, byte[] optimizerState) {
        Map<String, String> meta = new HashMap<>(metadata);
        meta.put(SOURCE_KEY, module.file().toString());
        return new Checkpoint(ModelKind.POLICY, ARCHITECTURE, config, ModelWeights.encode(block()), optimizerState, meta);
    }

    /** Hot swap: copies a checkpoint's weights into this running policy in place. */
    public void loadWeights(Checkpoint checkpoint) {
        ModelWeights.copyInto(block(), checkpoint.weights());
    }

    /** The TorchScript file this policy was loaded from. */
    public Path source() {
        return module.file();
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
    public Block block() {
        return module.block();
    }

    @Override
    public NDManager manager() {
        return module.manager();
    }

    @Override
    public PolicyOutput forward(NDArray tokens, NDArray attentionMask, boolean training) {
        NDList out = module.forward(tokens, attentionMask, training, "policy");
        NDArray logits = out.get(0);  // (B, T, V)
        NDArray values = out.get(1);  // (B, T)
        if (logits.getShape().dimension() != 3 || values.getShape().dimension() != 2) {
            throw new IllegalStateException("TorchScript policy " + module.file() + " returned logits "
                    + logits.getShape() + " and values " + values.getShape() + "; expected (B, T, V) and (B, T)");
        }
        return new PolicyOutput(logits, values);
    }

    /** A frozen copy: the file loaded again, this policy's current weights copied in. */
    @Override
    public TorchScriptPolicy referenceCopy() {
        TorchScriptPolicy copy = load(module.file(), config, true, manager().getDevice());
        ModelWeights.copy(block(), copy.block());
        copy.freeze(true);
        return copy;
    }

    @Override
    public void freeze(boolean frozen) {
        module.freeze(frozen);
    }

    @Override
    public void close() {
        module.close();
    }
}
