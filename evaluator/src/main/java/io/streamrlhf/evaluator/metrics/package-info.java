/**
 * RMB's metrics (DESIGN section 7): scoring items with any reward ensemble ({@link
 * io.streamrlhf.evaluator.metrics.RmbScorer}), the verdict rule (the preferred response strictly above every other;
 * ties and unscorable responses count as wrong), pairwise and Best-of-N accuracy per scenario, per goal and overall
 * ({@link io.streamrlhf.evaluator.metrics.RmbMetrics}), majority voting across sources, and the policy and
 * reward-model comparisons of replayed {@code generations} and {@code scored} records
 * ({@link io.streamrlhf.evaluator.metrics.PolicyComparison}, {@link io.streamrlhf.evaluator.metrics.RmComparison}).
 */
package io.streamrlhf.evaluator.metrics;
