package io.streamrlhf.models.world;

import java.util.List;
import java.util.Random;

/**
 * A simulated human rater. Comparing A and B, it prefers A with the Bradley–Terry probability
 *
 * <pre>
 *   P(A ≻ B) = σ((g(A) − g(B)) / τ)
 * </pre>
 *
 * on the gold rewards g, then flips its label with probability {@code flipShare} (careless or
 * adversarial raters; the label noise Secrets of RLHF Part II studies). The observed preference
 * probability is therefore (1 − f)·σ + f·(1 − σ). Thread-safe ({@link Random} is); deterministic given
 * the seed when used from one thread.
 */
public final class SimulatedRater {

    private final double tau;
    private final double flipShare;
    private final Random random;

    /**
     * A rater.
     *
     * @param tau       temperature τ &gt; 0 on the gold scale (smaller: more decisive)
     * @param flipShare probability in [0, 1] of reporting the opposite of the drawn preference
     * @param seed      random seed
     */
    public SimulatedRater(double tau, double flipShare, long seed) {
        if (!(tau > 0)) {
            throw new IllegalArgumentException("SimulatedRater: tau must be > 0, got " + tau);
        }
        if (!(flipShare >= 0 && flipShare <= 1)) {
            throw new IllegalArgumentException("SimulatedRater: flipShare must be in [0, 1], got " + flipShare);
        }
        this.tau = tau;
        this.flipShare = flipShare;
        this.random = new Random(seed);
    }

    /** The temperature τ. */
    public double tau() {
        return tau;
    }

    /** The share of flipped labels. */
    public double flipShare() {
        return flipShare;
    }

    /** σ((goldA − goldB) / τ), before any flip. */
    public double preferenceProbability(double goldA, double goldB) {
        return 1.0 / (1.0 + Math.exp(-(goldA - goldB) / tau));
    }

    /** One pairwise judgement. */
    public Decision compare(double goldA, double goldB) {
        double p = preferenceProbability(goldA, goldB);
        boolean trueA = random.nextDouble() < p;
        boolean flipped = random.nextDouble() < flipShare;
        return new Decision(trueA != flipped, flipped, p);
    }

    /**
     * Best of n: index i with probability softmax(g / τ)_i (Plackett–Luce's first choice, which is the
     * Bradley–Terry draw for n = 2); with probability {@code flipShare} a uniformly random index instead.
     */
    public int bestOf(List<Double> golds) {
        if (golds.isEmpty()) {
            throw new IllegalArgumentException("SimulatedRater.bestOf: no candidates");
        }
        if (random.nextDouble() < flipShare) {
            return random.nextInt(golds.size());
        }
        double max = golds.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        double[] weights = new double[golds.size()];
        double sum = 0;
        for (int i = 0; i < weights.length; i++) {
            weights[i] = Math.exp((golds.get(i) - max) / tau);
            sum += weights[i];
        }
        double u = random.nextDouble() * sum;
        for (int i = 0; i < weights.length; i++) {
            u -= weights[i];
            if (u < 0) {
                return i;
            }
        }
        return weights.length - 1;
    }

    /**
     * A pairwise judgement.
     *
     * @param prefersA    the reported label: true when A is preferred
     * @param flipped     true when the reported label is the opposite of the Bradley–Terry draw
     * @param probability σ((g(A) − g(B)) / τ), the unflipped probability of preferring A
     */
    public record Decision(boolean prefersA, boolean flipped, double probability) {
    }
}
