/**
 * Evaluation of a reward model on held-out data: pairwise accuracy against the labels and, on the
 * synthetic world, accuracy against the gold reward and Best-of-N accuracy (RMB's two views), with
 * the batched scoring they share.
 */
package io.streamrlhf.learner.rm.eval;
