package io.streamrlhf.models.sft;

/**
 * What one SFT run measured.
 *
 * @param steps              optimiser steps taken
 * @param initialPerplexity  held-out perplexity before training
 * @param finalPerplexity    held-out perplexity after training
 * @param finalLoss          mean training loss over the last 20 steps (nats per response token)
 * @param trainSeconds       wall time of the training steps (evaluation excluded)
 * @param trainCpuSeconds    CPU time this process spent over those steps, all threads (a load-independent
 *                           measure on a shared machine; about 2x the wall time on 2 uncontended threads)
 */
public record SftResult(int steps, double initialPerplexity, double finalPerplexity, double finalLoss,
                        double trainSeconds, double trainCpuSeconds) {
}
