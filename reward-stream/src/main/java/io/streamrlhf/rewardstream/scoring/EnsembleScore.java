package io.streamrlhf.rewardstream.scoring;

import java.util.List;

/**
 * The ensemble's verdict on one input: every contributing source's raw and normalised score, the mean, population
 * std and minimum of the normalised scores, and the final reward.
 *
 * @param scores      one entry per source that scored the input, in ensemble order
 * @param mean        mean of the normalised scores
 * @param std         population standard deviation of the normalised scores (0 for one source)
 * @param min         minimum of the normalised scores
 * @param aggregation how {@code reward} was formed
 * @param reward      the final reward
 */
public record EnsembleScore(List<SourceResult> scores, double mean, double std, double min, Aggregation aggregation,
                            double reward) {

    /** Copies the list. */
    public EnsembleScore {
        scores = List.copyOf(scores);
    }
}
