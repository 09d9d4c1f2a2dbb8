package io.streamrlhf.learner.rm;

import io.streamrlhf.models.transformer.TransformerConfig;
import java.util.Objects;

/**
 * How reward models are trained, apart from the paper's methods ({@link RmMethod}).
 *
 * @param model        shape of each reward model
 * @param ensembleSize M, the number of reward models measuring preference strength
 * @param epochs       passes over the training pairs
 * @param batchSize    pairs per step (each step scores 2·batchSize sequences)
 * @param learningRate AdamW learning rate
 * @param weightDecay  AdamW weight decay
 * @param maxGradNorm  global gradient-norm clip
 * @param seed         base seed: member m of an ensemble uses {@code seed + m} for its weights and data order
 */
public record RmTrainingConfig(TransformerConfig model, int ensembleSize, int epochs, int batchSize,
                               double learningRate, double weightDecay, double maxGradNorm, long seed) {

    /** Default ensemble size M. */
    public static final int DEFAULT_ENSEMBLE_SIZE = 4;

    /** Checks every value and names the one that is wrong. */
    public RmTrainingConfig {
        Objects.requireNonNull(model, "RmTrainingConfig: model is required");
        require(ensembleSize >= 1, "ensembleSize must be >= 1, got " + ensembleSize);
        require(epochs >= 1, "epochs must be >= 1, got " + epochs);
        require(batchSize >= 2, "batchSize must be >= 2, got " + batchSize);
        require(learningRate > 0, "learningRate must be > 0, got " + learningRate);
        require(weightDecay >= 0, "weightDecay must be >= 0, got " + weightDecay);
        require(maxGradNorm > 0, "maxGradNorm must be > 0, got " + maxGradNorm);
    }

    /**
     * Defaults for the synthetic world (what {@code rlhf train-rm} uses): d 32, 1 layer, 2 heads, context 64,
     * M 4, 3 epochs of batches of 32 pairs, AdamW 3e-3.
     */
    public static RmTrainingConfig defaults(int vocabSize) {
        return new RmTrainingConfig(new TransformerConfig(vocabSize, 64, 32, 1, 2), DEFAULT_ENSEMBLE_SIZE, 3, 32,
                3e-3, 0.01, 1.0, 7);
    }

    /** A copy with another seed. */
    public RmTrainingConfig withSeed(long newSeed) {
        return new RmTrainingConfig(model, ensembleSize, epochs, batchSize, learningRate, weightDecay, maxGradNorm,
                newSeed);
    }

    /** A copy with another ensemble size. */
    public RmTrainingConfig withEnsembleSize(int m) {
        return new RmTrainingConfig(model, m, epochs, batchSize, learningRate, weightDecay, maxGradNorm, seed);
    }

    /** A copy with another number of epochs. */
    public RmTrainingConfig withEpochs(int n) {
        return new RmTrainingConfig(model, ensembleSize, n, batchSize, learningRate, weightDecay, maxGradNorm, seed);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("RmTrainingConfig: " + message);
        }
    }
}
