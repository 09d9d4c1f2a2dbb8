package io.streamrlhf.learner.rm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * (prompt, response) pairs packed into one right-padded batch, cut from the left to the context length
 * so that the response's end (which the reward head reads) survives; the same packing as
 * {@code RewardBatching} in {@code models}, returned as arrays for a training forward.
 *
 * @param tokens (N, T) ids
 * @param mask   (N, T) 1 for real tokens, 0 for padding
 */
record SequenceBatch(NDArray tokens, NDArray mask) {

    static SequenceBatch pack(NDManager manager, List<int[]> prompts, List<int[]> responses, int context) {
        int n = prompts.size();
        int[][] rows = new int[n][];
        int t = 1;
        for (int i = 0; i < n; i++) {
            int[] c = prompts.get(i);
            int[] r = responses.get(i);
            int total = c.length + r.length;
            if (total == 0) {
                throw new IllegalArgumentException("sequence " + i + " of the batch has no tokens");
            }
            int keep = Math.min(total, context);
            int skip = total - keep;
            int[] row = new int[keep];
            for (int j = 0; j < keep; j++) {
                int src = skip + j;
                row[j] = src < c.length ? c[src] : r[src - c.length];
            }
            rows[i] = row;
            t = Math.max(t, keep);
        }
        int[] flat = new int[n * t];
        float[] mask = new float[n * t];
        for (int i = 0; i < n; i++) {
            System.arraycopy(rows[i], 0, flat, i * t, rows[i].length);
            for (int j = 0; j < rows[i].length; j++) {
                mask[i * t + j] = 1f;
            }
        }
        return new SequenceBatch(manager.create(flat, new Shape(n, t)), manager.create(mask, new Shape(n, t)));
    }
}
