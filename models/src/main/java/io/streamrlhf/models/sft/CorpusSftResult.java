package io.streamrlhf.models.sft;

/**
 * What one SFT run on a JSONL corpus measured.
 *
 * @param steps         optimiser steps taken
 * @param examples      sequences trained on
 * @param evalExamples  sequences the losses are measured on (the corpus's first ones)
 * @param initialLoss   mean loss per learned token (nats) on them before training
 * @param finalLoss     the same after training
 * @param trainSeconds  wall time of the training steps (measurement excluded)
 * @param corpusSummary the encoded corpus in one line ({@link EncodedCorpus#summary()})
 */
public record CorpusSftResult(int steps, int examples, int evalExamples, double initialLoss, double finalLoss,
                              double trainSeconds, String corpusSummary) {
}
