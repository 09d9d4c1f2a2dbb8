package io.streamrlhf.evaluator.metrics;

import io.streamrlhf.evaluator.rmb.RmbGoal;
import io.streamrlhf.evaluator.rmb.RmbSet;

/**
 * Accuracy over every item of one goal in one set (one of RMB's four headline figures).
 *
 * @param goal     helpfulness or harmlessness
 * @param set      pairwise or Best-of-N
 * @param accuracy the accuracy over all of the goal's items in the set
 */
public record GoalAccuracy(RmbGoal goal, RmbSet set, Accuracy accuracy) {
}
