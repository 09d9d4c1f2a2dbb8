package io.streamrlhf.evaluator.metrics;

import io.streamrlhf.evaluator.rmb.RmbItem;
import java.util.List;

/**
 * One item with what every voter made of it.
 *
 * @param item    the item
 * @param scores  per voter (in {@link RmbEvaluation#voters()} order): for a scoring source, its raw score of each
 *                response (preferred first); for a pairwise judge, 1 for the preferred response and, for each other
 *                response, 1 when the judge preferred it over the preferred one, else 0 (NaN for no verdict)
 * @param correct per voter, whether it was right on the item
 */
public record ScoredItem(RmbItem item, List<double[]> scores, boolean[] correct) {

    /** Copies the list. */
    public ScoredItem {
        scores = List.copyOf(scores);
        correct = correct.clone();
    }

    /** The majority verdict of the voters. */
    public boolean majority() {
        return Verdicts.majority(correct);
    }
}
