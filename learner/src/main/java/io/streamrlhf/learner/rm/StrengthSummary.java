package io.streamrlhf.learner.rm;

import java.util.List;
import java.util.Locale;

/**
 * A summary of the preference strengths of a set of pairs: how many look flipped (μ̂ &lt; 0), the mean
 * μ̂ and σ̂, and a histogram of μ̂ over fixed-width bins.
 *
 * @param pairs        pairs summarised
 * @param shareNegative share of pairs with μ̂ &lt; 0
 * @param meanMean     mean μ̂
 * @param meanStd      mean σ̂
 * @param binEdges     histogram edges, {@code counts.length + 1} of them; the first and last bins also
 *                     hold values beyond the edges
 * @param counts       pairs per bin
 */
public record StrengthSummary(int pairs, double shareNegative, double meanMean, double meanStd, double[] binEdges,
                              int[] counts) {

    /** Summarises strengths over {@code bins} equal bins on {@code [-range, range]}. */
    public static StrengthSummary of(List<PairStrength> strengths, int bins, double range) {
        if (bins < 1 || !(range > 0)) {
            throw new IllegalArgumentException("StrengthSummary: bins must be >= 1 and range > 0, got " + bins
                    + " and " + range);
        }
        double[] edges = new double[bins + 1];
        for (int i = 0; i <= bins; i++) {
            edges[i] = -range + 2 * range * i / bins;
        }
        int[] counts = new int[bins];
        int negative = 0;
        double sumMean = 0;
        double sumStd = 0;
        for (PairStrength s : strengths) {
            int bin = (int) Math.floor((s.mean() + range) / (2 * range) * bins);
            counts[Math.max(0, Math.min(bins - 1, bin))]++;
            if (s.mean() < 0) {
                negative++;
            }
            sumMean += s.mean();
            sumStd += s.std();
        }
        int n = strengths.size();
        return new StrengthSummary(n, n == 0 ? 0 : (double) negative / n, n == 0 ? 0 : sumMean / n,
                n == 0 ? 0 : sumStd / n, edges, counts);
    }

    /** The histogram as text rows ({@code [-2.0, -1.5)  12 ####}), for people. */
    public String histogram() {
        StringBuilder out = new StringBuilder();
        int max = 1;
        for (int c : counts) {
            max = Math.max(max, c);
        }
        for (int i = 0; i < counts.length; i++) {
            out.append(String.format(Locale.ROOT, "  [%5.2f, %5.2f) %6d %s%n", binEdges[i], binEdges[i + 1], counts[i],
                    "#".repeat((int) Math.round(40.0 * counts[i] / max))));
        }
        return out.toString();
    }
}
