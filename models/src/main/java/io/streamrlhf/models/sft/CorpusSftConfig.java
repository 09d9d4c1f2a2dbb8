package io.streamrlhf.models.sft;

/**
 * Settings of one SFT run on a {@link JsonlCorpus} ({@code rlhf sft --model DIR --data FILE}).
 *
 * @param epochs       passes over the corpus when {@code steps} is 0
 * @param steps        optimiser steps; 0 takes {@code epochs} passes
 * @param batchSize    sequences per step
 * @param learningRate AdamW peak learning rate (linear warm-up, then cosine decay to 10 % of it)
 * @param weightDecay  AdamW decoupled weight decay
 * @param warmupSteps  steps of linear warm-up (0: the peak from the first step)
 * @param maxLength    longest sequence trained on, in tokens (0: the model's context); longer ones are cut
 * @param seed         seeds the batch order
 */
public record CorpusSftConfig(int epochs, int steps, int batchSize, double learningRate, double weightDecay,
                              int warmupSteps, int maxLength, long seed) {

    /** Checks every field and names the one that is wrong. */
    public CorpusSftConfig {
        require(epochs >= 1, "epochs must be >= 1, got " + epochs);
        require(steps >= 0, "steps must be >= 0, got " + steps);
        require(batchSize >= 1, "batch size must be >= 1, got " + batchSize);
        require(learningRate > 0 && Double.isFinite(learningRate), "learning rate must be > 0, got " + learningRate);
        require(weightDecay >= 0, "weight decay must be >= 0, got " + weightDecay);
        require(warmupSteps >= 0, "warm-up steps must be >= 0, got " + warmupSteps);
        require(maxLength == 0 || maxLength >= 2, "max length must be 0 (the model's context) or >= 2, got "
                + maxLength);
    }

    /**
     * The defaults of {@code rlhf sft --model}: 3 epochs of batches of 8 at a learning rate of 2e-5, no weight
     * decay (TRL's {@code SFTTrainer} defaults), no warm-up, the model's context, seed 1.
     */
    public static CorpusSftConfig defaults() {
        return new CorpusSftConfig(3, 0, 8, 2e-5, 0.0, 0, 0, 1L);
    }

    /** The optimiser steps of a run over {@code examples} sequences. */
    public int stepsFor(int examples) {
        return steps > 0 ? steps : epochs * Math.max(1, (examples + batchSize - 1) / batchSize);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("SFT settings: " + message);
        }
    }
}
