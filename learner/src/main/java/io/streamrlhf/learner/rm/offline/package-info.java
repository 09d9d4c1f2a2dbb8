/**
 * Offline reward-model training: the synthetic world's preference data sets, JSONL files of text pairs
 * ({@code rlhf train-rm --file}), the pipeline that trains
 * an ensemble on a fixed set of pairs (a strength-measuring ensemble first when the method needs it),
 * reading the {@code preferences} topic to its end for training from it ({@code rlhf train-rm}), and
 * the comparison of the paper's methods trained on the same data ({@code rlhf train-rm --compare}).
 */
package io.streamrlhf.learner.rm.offline;
