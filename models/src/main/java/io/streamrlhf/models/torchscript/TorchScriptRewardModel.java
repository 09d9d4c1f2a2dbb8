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
import io.streamrlhf.models.reward.RewardModel;
import io.streamrlhf.models.reward.RewardOutput;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A user's TorchScript reward model behind {@link RewardModel}.
 *
 * <p>Contract of the TorchScript module: {@code forward(tokens: int64 (B, T), attention_mask:
 * float32 (B, T)) -> (scores (B), pooled (B, D))}, rows right-padded, the score read at each row's
 * final real token. Checkpoints work as for {@link TorchScriptPolicy}.
 */
public final class TorchScriptRewardModel implements RewardModel {

    private final TorchScriptModule module;
    private final TransformerConfig config;

    private TorchScriptRewardModel(TorchScriptModule module, TransformerConfig config) {
        this.module = module;
        this.config = config;
    }

    /** Loads a TorchScript reward model on {@link ModelRuntime#device()}. */
    public static TorchScriptRewardModel load(Path file, TransformerConfig config, boolean trainable) {
        return load(file, config, trainable, ModelRuntime.device());
    }

    /** Loads a TorchScript reward model on the given device. */
    public static TorchScriptRewardModel load(Path file, TransformerConfig config, boolean trainable, Device device) {
        TorchScriptRewardModel model = new TorchScriptRewardModel(TorchScriptModule.load(file, device), config);
        model.freeze(!trainable);
        return model;
    }

    /** Rebuilds a reward model from a checkpoint this adapter wrote. */
    public static TorchScriptRewardModel fromCheckpoint(Checkpoint checkpoint, boolean trainable) {
        if (checkpoint.kind() != ModelKind.REWARD_MODEL || !TorchScriptPolicy.ARCHITECTURE.equals(checkpoint.architecture())) {
            throw new CheckpointException("checkpoint is a " + checkpoint.kind() + "/" + checkpoint.architecture()
                    + ", not a " + ModelKind.REWARD_MODEL + "/" + TorchScriptPolicy.ARCHITECTURE);
        }
        String source = checkpoint.metadata().get(TorchScriptPolicy.SOURCE_KEY);
        if (source == null) {
            throw new CheckpointException("TorchScript reward checkpoint lacks metadata '" + TorchScriptPolicy.SOURCE_KEY + "'");
        }
        TorchScriptRewardModel model = load(Path.of(source), checkpoint.config(), trainable);
        try {
            ModelWeights.copyInto(model.block(), checkpoint.weights());
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return model;
    }

    /** This model's weights as a checkpoint; the metadata gains the source file. */
    public Checkpoint toCheckpoint(Map<String, String> metadata, byte[] optimizerState) {
        Map<String, String> meta = new HashMap<>(metadata);
        meta.put(TorchScriptPolicy.SOURCE_KEY, module.file().toString());
        return new Checkpoint(ModelKind.REWARD_MODEL, TorchScriptPolicy.ARCHITECTURE, config,
                ModelWeights.encode(block()), optimizerState, meta);
    }

    /** Hot swap: copies a checkpoint's weights into this running model in place. */
    public void loadWeights(Checkpoint checkpoint) {
        ModelWeights.copyInto(block(), checkpoint.weights());
    }

    @Override
    public String architecture() {
        return TorchScriptPolicy.ARCHITECTURE;
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
    public RewardOutput forward(NDArray tokens, NDArray attentionMask, boolean training) {
        NDList out = module.forward(tokens, attentionMask, training, "reward model");
        NDArray scores = out.get(0);  // (B)
        NDArray pooled = out.get(1);  // (B, D)
        if (scores.getShape().dimension() != 1 || pooled.getShape().dimension() != 2) {
            throw new IllegalStateException("TorchScript reward model " + module.file() + " returned scores "
                    + scores.getShape() + " and pooled " + pooled.getShape() + "; expected (B) and (B, D)");
        }
        return new RewardOutput(scores, pooled);
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
