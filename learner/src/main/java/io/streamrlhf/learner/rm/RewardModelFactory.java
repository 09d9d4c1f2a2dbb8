package io.streamrlhf.learner.rm;

import io.streamrlhf.models.hf.HfTrainableRewardModel;
import io.streamrlhf.models.reward.RewardModel;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.nio.file.Path;

/**
 * Makes the reward models an ensemble trains, one per member: member m of an ensemble with base seed s gets
 * {@code create(s + m)}. The caller owns and closes each model.
 */
@FunctionalInterface
public interface RewardModelFactory {

    /** A new model to train; {@code seed} draws whatever weights are new. */
    RewardModel create(long seed);

    /** The project's transformer reward model of {@code config}, freshly initialised from the seed. */
    static RewardModelFactory transformer(TransformerConfig config) {
        return seed -> TransformerRewardModel.create(config, seed);
    }

    /**
     * A Hugging Face folder, sequence-classification or causal LM, loaded anew for each model
     * ({@link HfTrainableRewardModel#load(Path, int, long)}); the seed draws a causal LM's new score head.
     *
     * @param context the longest sequence that will be run (0: the config's maximum)
     */
    static RewardModelFactory huggingFace(Path dir, int context) {
        return seed -> HfTrainableRewardModel.load(dir, context, seed);
    }
}
