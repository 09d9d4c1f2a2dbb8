package io.streamrlhf.models.reward;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamrlhf.models.engine.NoGrad;
import java.util.List;

/**
 * Packs (conversation, response) pairs into one right-padded batch and scores it. Used by
 * {@link RewardModel#score}; works for any {@link RewardModel} implementation.
 */
public final class RewardBatching {

    private RewardBatching() {
    }

    /**
     * Concatenates each pair, keeps the last {@code contextLength} tokens (so the response's end,
     * which the head reads, survives truncation), right-pads with 0 under a 0 mask and scores.
     */
    public static RewardScores score(RewardModel model, List<int[]> conversations, List<int[]> responses) {
        try (NoGrad ignored = NoGrad.enter()) {
            return scoreWithoutGradients(model, conversations, responses);
        }
    }

    private static RewardScores scoreWithoutGradients(RewardModel model, List<int[]> conversations,
                                                      List<int[]> responses) {
        if (conversations.size() != responses.size()) {
            throw new IllegalArgumentException("score: " + conversations.size() + " conversations but "
                    + responses.size() + " responses");
        }
        int b = conversations.size();
        if (b == 0) {
            return new RewardScores(new float[0], new float[0][]);
        }
        int context = model.config().contextLength();
        int[][] rows = new int[b][];
        int t = 1;
        for (int i = 0; i < b; i++) {
            int[] c = conversations.get(i);
            int[] r = responses.get(i);
            int total = c.length + r.length;
            if (total == 0) {
                throw new IllegalArgumentException("score: pair " + i + " has no tokens");
            }
            int keep = Math.min(total, context);
            int[] row = new int[keep];
            int skip = total - keep;
            for (int j = 0; j < keep; j++) {
                int src = skip + j;
                row[j] = src < c.length ? c[src] : r[src - c.length];
            }
            rows[i] = row;
            t = Math.max(t, keep);
        }
        int[] flat = new int[b * t];
        float[] mask = new float[b * t];
        for (int i = 0; i < b; i++) {
            System.arraycopy(rows[i], 0, flat, i * t, rows[i].length);
            for (int j = 0; j < rows[i].length; j++) {
                mask[i * t + j] = 1f;
            }
        }
        try (NDManager step = model.manager().newSubManager()) {
            NDArray tokens = step.create(flat, new Shape(b, t));  // (B, T)
            NDArray attention = step.create(mask, new Shape(b, t));  // (B, T)
            RewardOutput out = model.forward(tokens, attention, false);
            float[] scores = out.scores().toFloatArray();  // (B)
            NDArray pooled = out.pooled();  // (B, D)
            int d = (int) pooled.getShape().get(1);
            float[] p = pooled.toFloatArray();
            float[][] rowsOut = new float[b][d];
            for (int i = 0; i < b; i++) {
                System.arraycopy(p, i * d, rowsOut[i], 0, d);
            }
            return new RewardScores(scores, rowsOut);
        }
    }
}
