/**
 * Replay of any topic range or RMB JSON files through the reward stream's scoring core, RMB pairwise
 * and Best-of-N metrics, policy and reward-model comparisons, HTML/PNG reports. Built by the
 * evaluator issue; nothing here yet.
 */
package io.streamrlhf.evaluator;
