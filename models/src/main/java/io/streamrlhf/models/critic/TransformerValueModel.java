package io.streamrlhf.models.critic;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.reward.RewardBlock;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Our transformer reward model as a critic: its {@link RewardBlock} with the score head read at every position
 * ({@link RewardBlock#positionScores}). Initialised from a reward-model checkpoint, its value at a sequence's final
 * token is, before any training, that sequence's reward. Its checkpoints are reward-model checkpoints of the same
 * architecture (metadata {@value #ROLE_METADATA} = {@value #ROLE}).
 */
public final class TransformerValueModel implements ValueModel {

    /** Checkpoint metadata naming what a reward-model checkpoint holds when it is a critic. */
    public static final String ROLE_METADATA = "role";
    /** The value of {@link #ROLE_METADATA} for a critic. */
    public static final String ROLE = "critic";

    private final TransformerRewardModel model;
    private final ParameterStore parameterStore;

    private TransformerValueModel(TransformerRewardModel model) {
        this.model = model;
        this.parameterStore = new ParameterStore(model.manager(), false);
    }

    /**
     * A critic holding a {@code REWARD_MODEL} checkpoint's weights (a trained reward model, or a critic saved by
     * {@link #toCheckpoint}), on {@link io.streamrlhf.models.engine.ModelRuntime#device()}, ready to train.
     *
     * @throws io.streamrlhf.models.checkpoint.CheckpointException if it is not a transformer reward model
     */
    public static TransformerValueModel fromCheckpoint(Checkpoint checkpoint) {
        TransformerValueModel critic = new TransformerValueModel(TransformerRewardModel.fromCheckpoint(checkpoint));
        critic.freeze(false);
        return critic;
    }

    @Override
    public String architecture() {
        return TransformerRewardModel.ARCHITECTURE;
    }

    @Override
    public TransformerConfig config() {
        return model.config();
    }

    @Override
    public RewardBlock block() {
        return model.block();
    }

    @Override
    public NDManager manager() {
        return model.manager();
    }

    @Override
    public NDArray values(NDArray tokens, NDArray attentionMask, boolean training) {
        NDList in = attentionMask == null ? new NDList(tokens) : new NDList(tokens, attentionMask);
        return model.block().positionScores(parameterStore, in, training);  // (B, T)
    }

    @Override
    public Checkpoint toCheckpoint(Map<String, String> metadata, byte[] optimizerState) {
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put(ROLE_METADATA, ROLE);
        return model.toCheckpoint(meta, optimizerState);
    }

    @Override
    public void freeze(boolean frozen) {
        model.freeze(frozen);
    }

    @Override
    public void close() {
        model.close();
    }
}
