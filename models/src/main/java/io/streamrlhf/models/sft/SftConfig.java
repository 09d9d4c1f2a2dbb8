package io.streamrlhf.models.sft;

import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.models.world.Vocabulary;
import java.util.Objects;

/**
 * Settings of one SFT run.
 *
 * @param model        the policy's shape; its vocabulary must be the world's
 * @param steps        optimiser steps
 * @param batchSize    sequences per step
 * @param learningRate AdamW peak learning rate (linear warm-up, then cosine decay to 10 %)
 * @param weightDecay  AdamW decoupled weight decay
 * @param warmupSteps  steps of linear warm-up
 * @param corpusSize   training examples drawn from the corpus grammar
 * @param heldOutSize  held-out examples (another seed) for perplexity
 * @param seed         seeds the corpus, the initial weights and the batch order
 */
public record SftConfig(TransformerConfig model, int steps, int batchSize, double learningRate, double weightDecay,
                        int warmupSteps, int corpusSize, int heldOutSize, long seed) {

    /** The demo's policy shape: d 128, 2 layers, 4 heads, context 64, the standard world's vocabulary. */
    public static final TransformerConfig DEMO_MODEL =
            new TransformerConfig(Vocabulary.standard().size(), 64, 128, 2, 4);

    /** Checks every field and names the one that is wrong. */
    public SftConfig {
        Objects.requireNonNull(model, "model");
        require(steps >= 0, "steps must be >= 0, got " + steps);
        require(batchSize > 0, "batchSize must be > 0, got " + batchSize);
        require(learningRate > 0, "learningRate must be > 0, got " + learningRate);
        require(weightDecay >= 0, "weightDecay must be >= 0, got " + weightDecay);
        require(warmupSteps >= 0, "warmupSteps must be >= 0, got " + warmupSteps);
        require(corpusSize >= batchSize, "corpusSize must be >= batchSize, got " + corpusSize);
        require(heldOutSize > 0, "heldOutSize must be > 0, got " + heldOutSize);
    }

    /** Optimiser steps of the demo's SFT run ({@code rlhf demo --sft-steps}, {@code rlhf sft --steps}). */
    public static final int DEMO_STEPS = 400;

    /**
     * The demo's run: {@value #DEMO_STEPS} steps of 32 sequences (about 24 s on one core of the 2-core build machine;
     * held-out perplexity about 336 before, 13 after).
     */
    public static SftConfig demo() {
        return new SftConfig(DEMO_MODEL, DEMO_STEPS, 32, 3e-3, 0.01, 40, 20_000, 512, 1L);
    }

    /** A copy with another step count. */
    public SftConfig withSteps(int newSteps) {
        return new SftConfig(model, newSteps, batchSize, learningRate, weightDecay, Math.min(warmupSteps, newSteps),
                corpusSize, heldOutSize, seed);
    }

    /** A copy with another seed. */
    public SftConfig withSeed(long newSeed) {
        return new SftConfig(model, steps, batchSize, learningRate, weightDecay, warmupSteps, corpusSize,
                heldOutSize, newSeed);
    }

    /** A copy with another model shape. */
    public SftConfig withModel(TransformerConfig newModel) {
        return new SftConfig(newModel, steps, batchSize, learningRate, weightDecay, warmupSteps, corpusSize,
                heldOutSize, seed);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("SftConfig: " + message);
        }
    }
}
