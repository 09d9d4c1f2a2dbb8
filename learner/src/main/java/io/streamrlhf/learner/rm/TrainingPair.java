package io.streamrlhf.learner.rm;

/**
 * A pair as one training step sees it: after any label flip, with its margin.
 *
 * @param pair    the pair (chosen is the label the model learns)
 * @param margin  m in {@code −log σ(r_c − r_r − m)}: 0 for plain Bradley–Terry, the scaled ensemble μ̂
 *                for the adaptive margin
 * @param flipped whether the trainer flipped this pair's label
 */
public record TrainingPair(EncodedPair pair, double margin, boolean flipped) {

    /** A pair taken as labelled, without margin. */
    public static TrainingPair plain(EncodedPair pair) {
        return new TrainingPair(pair, 0, false);
    }
}
