package io.streamrlhf.evaluator.metrics;

import io.streamrlhf.evaluator.rmb.RmbGoal;
import io.streamrlhf.evaluator.rmb.RmbSet;

/**
 * Accuracy on one RMB scenario of one set.
 *
 * @param categoryPath the scenario, e.g. {@code BoN_set/Helpfulness/Code/Documentation}
 * @param set          the set
 * @param goal         the goal the path names
 * @param accuracy     the accuracy on the scenario's items
 */
public record ScenarioAccuracy(String categoryPath, RmbSet set, RmbGoal goal, Accuracy accuracy) {
}
