package io.streamrlhf.learner.rm;

/**
 * A pair's preference strength as an ensemble measures it (Part II §3.1): over the M reward models,
 * the mean μ̂ and the standard deviation σ̂ of {@code r(chosen) − r(rejected)}.
 *
 * @param mean         μ̂; negative when the ensemble, on average, prefers the rejected response
 * @param std          σ̂ (population form, divided by M); high when the models disagree
 * @param ensembleSize M
 */
public record PairStrength(double mean, double std, int ensembleSize) {

    /**
     * μ̂ and σ̂ of one pair's differences, one per model.
     *
     * @throws IllegalArgumentException when {@code diffs} is empty
     */
    public static PairStrength of(double[] diffs) {
        if (diffs.length == 0) {
            throw new IllegalArgumentException("PairStrength: no reward-model differences");
        }
        double mean = 0;
        for (double d : diffs) {
            mean += d;
        }
        mean /= diffs.length;
        double var = 0;
        for (double d : diffs) {
            var += (d - mean) * (d - mean);
        }
        return new PairStrength(mean, Math.sqrt(var / diffs.length), diffs.length);
    }

    /** The strength of the flipped pair: μ̂ changes sign, σ̂ stays. */
    public PairStrength flipped() {
        return new PairStrength(-mean, std, ensembleSize);
    }
}
