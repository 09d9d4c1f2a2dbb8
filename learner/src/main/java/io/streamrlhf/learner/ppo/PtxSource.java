package io.streamrlhf.learner.ppo;

/**
 * Pre-training (SFT) sequences for the PPO-ptx loss: each call returns a fresh right-padded batch.
 */
public interface PtxSource {

    /**
     * A batch of {@code rows} sequences no longer than {@code context}.
     */
    PtxBatch next(int rows, int context);

    /**
     * Host arrays of one ptx batch.
     *
     * @param tokens    (B, T) ids, padding after each row's end
     * @param attention (B, T) 1 at real tokens
     * @param lossMask  (B, T − 1) 1 where the target token t + 1 is learned (response tokens)
     * @param rows      B
     * @param length    T
     */
    record PtxBatch(int[] tokens, float[] attention, float[] lossMask, int rows, int length) {
    }
}
