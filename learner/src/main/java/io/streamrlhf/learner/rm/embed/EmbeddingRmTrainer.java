package io.streamrlhf.learner.rm.embed;

import io.streamrlhf.learner.rm.PairStrength;
import io.streamrlhf.learner.rm.PreferenceRelabeling;
import io.streamrlhf.learner.rm.RmMethod;
import io.streamrlhf.models.encoder.MiniLm;
import io.streamrlhf.models.encoder.RewardHeads;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.function.Function;

/**
 * Trains an ensemble of linear reward heads on a frozen encoder's embeddings (see {@link RewardHeads}) with Secrets
 * of RLHF Part II's data-side methods: each head is fitted on its own bootstrap resample with the Bradley–Terry
 * loss, label smoothing α and an adaptive margin, {@code −(1−α)·log σ(Δ − m) − α·log σ(m − Δ)}; for flipping or
 * margins, a first plain ensemble measures every pair's preference strength (mean and spread of the heads'
 * {@code r(chosen) − r(rejected)}), the pairs are relabelled exactly as {@link PreferenceRelabeling} does for the
 * transformer reward models, and the heads are fitted again. A pair's strength comes from the heads whose resample
 * left it out, where there are such heads.
 *
 * <p>The contrastive term and MetaRM change a trunk's representation; the encoder here is frozen, so those methods
 * are refused. Full-batch Adam with L2 decay; deterministic for a seed.
 */
public final class EmbeddingRmTrainer {

    /**
     * Training settings.
     *
     * @param heads  ensemble size M
     * @param epochs full-batch Adam steps per head
     * @param lr     Adam's learning rate
     * @param l2     weight decay λ of {@code λ‖w‖²}
     * @param seed   seeds the bootstrap resamples
     */
    public record Settings(int heads, int epochs, double lr, double l2, long seed) {
        /** Four heads, 300 steps of 0.01, λ 1e-2. */
        public static final Settings DEFAULT = new Settings(4, 300, 0.01, 1e-2, 7);

        /** Checks every value. */
        public Settings {
            if (heads < 1 || epochs < 1 || !(lr > 0) || l2 < 0) {
                throw new IllegalArgumentException("embedding reward heads: heads and epochs must be >= 1, lr > 0 and "
                        + "l2 >= 0; got heads=" + heads + ", epochs=" + epochs + ", lr=" + lr + ", l2=" + l2);
            }
        }
    }

    private EmbeddingRmTrainer() {
    }

    /** Refuses the methods a frozen encoder cannot apply, naming them. */
    public static void check(RmMethod method) {
        if (method.contrastive() || method.meta()) {
            throw new IllegalArgumentException("method " + method.name() + ": the contrastive term and MetaRM train the "
                    + "encoder's representation, and this encoder is frozen; use bt, flip, smooth and margin");
        }
    }

    /**
     * Embeds every text of {@code pairs} once (prompts and responses) and returns each pair's chosen and rejected
     * features, {@code [pair][0 = chosen, 1 = rejected]}.
     */
    public static float[][][] features(MiniLm encoder, List<TextPair> pairs) {
        Map<String, Integer> index = new LinkedHashMap<>();
        for (TextPair p : pairs) {
            index.putIfAbsent(p.prompt(), index.size());
            index.putIfAbsent(p.chosen(), index.size());
            index.putIfAbsent(p.rejected(), index.size());
        }
        float[][] embeddings = encoder.embed(new ArrayList<>(index.keySet()));
        Function<String, float[]> e = text -> embeddings[index.get(text)];
        float[][][] out = new float[pairs.size()][][];
        for (int i = 0; i < pairs.size(); i++) {
            TextPair p = pairs.get(i);
            out[i] = new float[][] {RewardHeads.features(e.apply(p.prompt()), e.apply(p.chosen())),
                    RewardHeads.features(e.apply(p.prompt()), e.apply(p.rejected()))};
        }
        return out;
    }

    /**
     * Trains the heads on the pairs' features ({@link #features}).
     *
     * @param name the ensemble's name, recorded with its scores
     */
    public static RewardHeads train(float[][][] features, RmMethod method, Settings settings, String name) {
        check(method);
        Objects.requireNonNull(features, "features");
        if (features.length < 2) {
            throw new IllegalArgumentException("embedding reward heads need at least 2 pairs, got " + features.length);
        }
        float[][] diff = diffs(features);
        boolean[] flipped = new boolean[diff.length];
        double[] margin = new double[diff.length];
        boolean[][] inBag = new boolean[settings.heads()][diff.length];
        float[][] weights = fit(diff, flipped, margin, 0, settings, inBag);
        if (method.needsStrength()) {
            relabel(weights, diff, inBag, method, flipped, margin);
        }
        if (method.needsStrength() || method.labelSmoothing() > 0) {
            weights = fit(diff, flipped, margin, method.labelSmoothing(), settings, inBag);
        }
        return new RewardHeads(name, 1, MiniLm.NAME, method.name(), weights, new float[settings.heads()]);
    }

    /**
     * Which pairs {@code method} flips, given a plain ensemble fitted on them ({@code inBag}: which pairs each head's
     * resample held), and each pair's margin after the flip; fills {@code flipped} and {@code margin}.
     */
    static void relabel(float[][] weights, float[][] diff, boolean[][] inBag, RmMethod method, boolean[] flipped,
                        double[] margin) {
        List<PairStrength> strengths = outOfBagStrengths(weights, diff, inBag);
        boolean[] flip = PreferenceRelabeling.flips(strengths, method);
        for (int i = 0; i < diff.length; i++) {
            flipped[i] = flip[i];
            double mu = flip[i] ? -strengths.get(i).mean() : strengths.get(i).mean();
            margin[i] = method.adaptiveMargin() ? method.marginScale() * mu : 0;
        }
    }

    /** The plain ensemble's flips for {@code features} under {@code method} (what {@link #train} relabels). */
    static boolean[] flips(float[][][] features, RmMethod method, Settings settings) {
        float[][] diff = diffs(features);
        boolean[][] inBag = new boolean[settings.heads()][diff.length];
        float[][] weights = fit(diff, new boolean[diff.length], new double[diff.length], 0, settings, inBag);
        boolean[] flipped = new boolean[diff.length];
        relabel(weights, diff, inBag, method, flipped, new double[diff.length]);
        return flipped;
    }

    private static float[][] diffs(float[][][] features) {
        float[][] diff = new float[features.length][RewardHeads.FEATURES];
        for (int i = 0; i < features.length; i++) {
            for (int k = 0; k < RewardHeads.FEATURES; k++) {
                diff[i][k] = features[i][0][k] - features[i][1][k];
            }
        }
        return diff;
    }

    /**
     * Each pair's strength from the heads that did not train on it (out of bag), or from all heads where every head
     * did: heads fitted in a space as wide as the features agree with their own training labels, flipped or not, so
     * only heads that never saw a pair can say that its label looks wrong.
     */
    static List<PairStrength> outOfBagStrengths(float[][] weights, float[][] diff, boolean[][] inBag) {
        List<PairStrength> out = new ArrayList<>(diff.length);
        for (int i = 0; i < diff.length; i++) {
            List<Double> per = new ArrayList<>();
            for (int m = 0; m < weights.length; m++) {
                if (!inBag[m][i]) {
                    per.add(dot(weights[m], diff[i]));
                }
            }
            if (per.isEmpty()) {
                for (float[] w : weights) {
                    per.add(dot(w, diff[i]));
                }
            }
            out.add(PairStrength.of(per.stream().mapToDouble(Double::doubleValue).toArray()));
        }
        return out;
    }

    /** Fits every head on its own bootstrap resample. */
    private static float[][] fit(float[][] diff, boolean[] flipped, double[] margin, double alpha, Settings s,
                                 boolean[][] inBag) {
        int n = diff.length;
        int f = RewardHeads.FEATURES;
        float[][] out = new float[s.heads()][];
        for (int m = 0; m < s.heads(); m++) {
            Random random = new Random(s.seed() * 1_000_003L + m);
            int[] sample = new int[n];
            for (int i = 0; i < n; i++) {
                sample[i] = s.heads() == 1 ? i : random.nextInt(n);
                inBag[m][sample[i]] = true;
            }
            double[] w = new double[f];
            double[] mom = new double[f];
            double[] vel = new double[f];
            double b1 = 0.9;
            double b2 = 0.999;
            for (int step = 1; step <= s.epochs(); step++) {
                double[] grad = new double[f];
                for (int i : sample) {
                    double sign = flipped[i] ? -1 : 1;
                    double delta = sign * dot(w, diff[i]) - margin[i];
                    // d/dΔ of −(1−α)·log σ(Δ) − α·log σ(−Δ) is σ(Δ) − (1 − α)
                    double g = (sigmoid(delta) - (1 - alpha)) * sign / n;
                    float[] d = diff[i];
                    for (int k = 0; k < f; k++) {
                        grad[k] += g * d[k];
                    }
                }
                double c1 = 1 - Math.pow(b1, step);
                double c2 = 1 - Math.pow(b2, step);
                for (int k = 0; k < f; k++) {
                    double gk = grad[k] + 2 * s.l2() * w[k];
                    mom[k] = b1 * mom[k] + (1 - b1) * gk;
                    vel[k] = b2 * vel[k] + (1 - b2) * gk * gk;
                    w[k] -= s.lr() * (mom[k] / c1) / (Math.sqrt(vel[k] / c2) + 1e-8);
                }
            }
            float[] row = new float[f];
            for (int k = 0; k < f; k++) {
                row[k] = (float) w[k];
            }
            out[m] = row;
        }
        return out;
    }

    private static double dot(double[] w, float[] d) {
        double s = 0;
        for (int k = 0; k < d.length; k++) {
            s += w[k] * d[k];
        }
        return s;
    }

    private static double dot(float[] w, float[] d) {
        double s = 0;
        for (int k = 0; k < d.length; k++) {
            s += w[k] * d[k];
        }
        return s;
    }

    private static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }
}
