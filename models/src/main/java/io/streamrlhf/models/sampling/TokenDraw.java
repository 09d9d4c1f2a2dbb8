package io.streamrlhf.models.sampling;

import java.util.SplittableRandom;

/**
 * The categorical draw over one row of logits, in Java on the CPU: temperature, top-k, top-p,
 * then one uniform draw. Works in double precision and reuses its buffers (one instance per
 * sampler thread).
 */
final class TokenDraw {

    private final int vocab;
    private final double[] scaled;
    private final double[] probs;
    private final Integer[] order;
    private final boolean[] kept;

    TokenDraw(int vocab) {
        this.vocab = vocab;
        this.scaled = new double[vocab];
        this.probs = new double[vocab];
        this.order = new Integer[vocab];
        this.kept = new boolean[vocab];
    }

    /**
     * Draws one id from {@code logits[offset, offset + vocab)}.
     *
     * @param out out[0] receives the log-probability of the drawn id under the distribution used
     * @return the drawn id
     */
    int draw(float[] logits, int offset, SamplingParams p, SplittableRandom random, double[] out) {
        if (p.temperature() == 0) {
            int best = 0;
            for (int v = 1; v < vocab; v++) {
                if (logits[offset + v] > logits[offset + best]) {
                    best = v;
                }
            }
            out[0] = 0.0;
            return best;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) {
            scaled[v] = logits[offset + v] / p.temperature();
            max = Math.max(max, scaled[v]);
        }
        boolean filtered = p.topK() > 0 && p.topK() < vocab || p.topP() < 1.0;
        double sum = 0;
        for (int v = 0; v < vocab; v++) {
            probs[v] = Math.exp(scaled[v] - max);
            sum += probs[v];
        }
        if (filtered) {
            sum = applyFilters(p);
        }
        // Inverse-CDF draw over the kept mass.
        double u = random.nextDouble() * sum;
        int chosen = -1;
        double acc = 0;
        int lastKept = -1;
        for (int v = 0; v < vocab; v++) {
            if (probs[v] == 0) {
                continue;
            }
            lastKept = v;
            acc += probs[v];
            if (u < acc) {
                chosen = v;
                break;
            }
        }
        if (chosen < 0) {
            chosen = lastKept;  // u landed on the rounding slack at the top end
        }
        out[0] = Math.log(probs[chosen] / sum);
        return chosen;
    }

    /** Zeroes the probabilities top-k and top-p remove; returns the kept (unnormalised) mass. */
    private double applyFilters(SamplingParams p) {
        for (int v = 0; v < vocab; v++) {
            order[v] = v;
        }
        java.util.Arrays.sort(order, (a, b) -> Double.compare(probs[b], probs[a]));
        int keep = p.topK() > 0 ? Math.min(p.topK(), vocab) : vocab;
        java.util.Arrays.fill(kept, false);
        double topKMass = 0;
        for (int i = 0; i < keep; i++) {
            topKMass += probs[order[i]];
        }
        // top-p after top-k, over the top-k distribution (Holtzman et al. 2020; the order Hugging
        // Face's warpers use): the smallest prefix of most likely ids whose mass reaches p.
        double target = p.topP() * topKMass;
        double acc = 0;
        for (int i = 0; i < keep; i++) {
            int v = order[i];
            kept[v] = true;
            acc += probs[v];
            if (p.topP() < 1.0 && acc >= target) {
                break;
            }
        }
        double sum = 0;
        for (int v = 0; v < vocab; v++) {
            if (!kept[v]) {
                probs[v] = 0;
            } else {
                sum += probs[v];
            }
        }
        return sum;
    }
}
