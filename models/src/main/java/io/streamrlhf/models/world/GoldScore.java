package io.streamrlhf.models.world;

/**
 * The gold reward of one response, component by component (see {@link GoldReward}).
 *
 * @param sentiment  in (-1, 1)
 * @param onTopic    in [0, 1]
 * @param fluency    in [0, 1]
 * @param repetition in [0, 1), subtracted
 * @param length     in [0, 1]
 * @param total      the weighted sum, in [-2.5, 3.5]
 */
public record GoldScore(double sentiment, double onTopic, double fluency, double repetition, double length,
                        double total) {
}
