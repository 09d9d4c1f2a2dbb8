/**
 * RMB's data: the items of its pairwise and Best-of-N sets ({@link io.streamrlhf.evaluator.rmb.RmbItem}), how they
 * are read from JSON files and folders in the sample's or the benchmark's original layout
 * ({@link io.streamrlhf.evaluator.rmb.RmbReader}), written back as RMB JSON for the evaluation topic, and how a
 * conversation becomes the prompt text a reward source scores.
 */
package io.streamrlhf.evaluator.rmb;
