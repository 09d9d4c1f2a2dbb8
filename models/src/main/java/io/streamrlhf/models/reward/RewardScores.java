package io.streamrlhf.models.reward;

/*
 * CONTRACT: plain-Java result of RewardModel.score, safe to keep after native memory is freed.
 */

/**
 * Scores of a batch of (conversation, response) pairs.
 *
 * @param scores one reward per pair, in input order
 * @param pooled one representation (length D) per pair, in input order
 */
public record RewardScores(float[] scores, float[][] pooled) {

    /** Number of scored pairs. */
    public int size() {
        return scores.length;
    }
}
