package io.streamrlhf.learner.rm;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Applies a method's data-side remedies (Part II §3.2) to labelled pairs and their ensemble
 * strengths: flips the labels the ensemble contradicts, and sets each pair's margin to its (scaled)
 * μ̂, taken after the flip, so a flipped pair's margin is positive.
 */
public final class PreferenceRelabeling {

    private PreferenceRelabeling() {
    }

    /**
     * The training pairs for {@code method}.
     *
     * @param strengths one per pair, same order; may be {@code null} when the method needs none
     * @throws IllegalArgumentException when the method needs strengths and they are missing or of the wrong size
     */
    public static List<TrainingPair> prepare(List<EncodedPair> pairs, List<PairStrength> strengths, RmMethod method) {
        if (!method.needsStrength()) {
            return pairs.stream().map(TrainingPair::plain).toList();
        }
        if (strengths == null || strengths.size() != pairs.size()) {
            throw new IllegalArgumentException("method " + method.name() + " needs one ensemble strength per pair; got "
                    + (strengths == null ? "none" : strengths.size()) + " for " + pairs.size() + " pairs");
        }
        boolean[] flip = flips(strengths, method);
        List<TrainingPair> out = new ArrayList<>(pairs.size());
        for (int i = 0; i < pairs.size(); i++) {
            EncodedPair pair = flip[i] ? pairs.get(i).swapped() : pairs.get(i);
            double mu = flip[i] ? -strengths.get(i).mean() : strengths.get(i).mean();
            double margin = method.adaptiveMargin() ? method.marginScale() * mu : 0;
            out.add(new TrainingPair(pair, margin, flip[i]));
        }
        return out;
    }

    /** Which pairs the method flips. */
    public static boolean[] flips(List<PairStrength> strengths, RmMethod method) {
        boolean[] flip = new boolean[strengths.size()];
        switch (method.flip()) {
            case NONE -> {
            }
            case NEGATIVE_MEAN -> {
                for (int i = 0; i < flip.length; i++) {
                    flip[i] = strengths.get(i).mean() < 0;
                }
            }
            case WEAKEST_FRACTION -> {
                int n = (int) Math.round(method.flipFraction() * strengths.size());
                IntStream.range(0, strengths.size()).boxed()
                        .sorted(Comparator.comparingDouble(i -> strengths.get(i).mean()))
                        .limit(n).forEach(i -> flip[i] = true);
            }
            default -> throw new IllegalStateException("unknown flip mode " + method.flip());
        }
        return flip;
    }
}
