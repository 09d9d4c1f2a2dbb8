package io.streamrlhf.evaluator.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Two scorings of the same generations side by side (a scored topic and its re-scoring with a new reward model, say),
 * joined by generation id.
 *
 * <ul>
 *   <li><b>Pairwise agreement</b>: over pairs of joined generations of the same prompt, the share that both scorings
 *       order the same way. A pair either scoring ties is not judged (it is counted in {@code tiedPairs}): a tie says
 *       neither is better, so it can neither agree nor disagree with an order.</li>
 *   <li><b>Spearman's rank correlation</b> of the two rewards over all joined generations: Pearson's correlation of
 *       the ranks, tied values sharing their mean rank. NaN with fewer than two generations or when one side gives
 *       them all the same reward.</li>
 *   <li><b>Per-version tables</b>, one per side: the records of each reward-model version (the scorers and model
 *       versions of a record's scores, e.g. {@code rm-0@v3+rule-length}), how many were joined, their mean reward,
 *       and the agreement on the pairs both of whose generations that version scored on that side.</li>
 * </ul>
 *
 * @param joined      generations present in both scorings
 * @param onlyFirst   generations only the first scoring holds
 * @param onlySecond  generations only the second scoring holds
 * @param duplicates  records whose generation id came again on the same side (the last one counts)
 * @param agreement   pairwise order agreement over the strictly ordered same-prompt pairs
 * @param tiedPairs   same-prompt pairs tied by at least one scoring, left out of {@code agreement}
 * @param spearman    Spearman's rank correlation of the joined rewards
 * @param rewardMeanFirst  mean first reward over the joined generations
 * @param rewardMeanSecond mean second reward over the joined generations
 * @param first       the first scoring's per-version table
 * @param second      the second scoring's per-version table
 */
public record ScoringComparison(int joined, int onlyFirst, int onlySecond, int duplicates, Accuracy agreement,
                                int tiedPairs, double spearman, double rewardMeanFirst, double rewardMeanSecond,
                                List<VersionRow> first, List<VersionRow> second) {

    /** Copies the tables. */
    public ScoringComparison {
        first = List.copyOf(first);
        second = List.copyOf(second);
    }

    /**
     * One reward-model version of one side.
     *
     * @param version    the version label: the record's scorers, each {@code scorer} or {@code scorer@vN}, joined by
     *                   {@code +}; {@code (none)} for a record without scores
     * @param n          records of this version on this side
     * @param joined     of them, generations the other side also holds
     * @param rewardMean their mean reward (all {@code n})
     * @param agreement  agreement with the other side on same-prompt pairs of joined generations both of which this
     *                   version scored
     */
    public record VersionRow(String version, int n, int joined, double rewardMean, Accuracy agreement) {
    }

    /** One scored record as the comparison sees it. */
    private record Entry(String promptId, double reward, String version) {
    }

    /** Collects the two sides' records; not thread-safe. */
    public static final class Accumulator {
        private final List<Map<String, Entry>> sides = List.of(new LinkedHashMap<>(), new LinkedHashMap<>());
        private int duplicates;

        /**
         * Records one scored generation of one side.
         *
         * @param side         0 for the first scoring, 1 for the second
         * @param generationId the join key
         * @param promptId     the generation's prompt (its group for pairwise agreement)
         * @param reward       the final reward
         * @param version      the version label (see {@link VersionRow#version()})
         */
        public Accumulator add(int side, String generationId, String promptId, double reward, String version) {
            if (side != 0 && side != 1) {
                throw new IllegalArgumentException("side must be 0 or 1, got " + side);
            }
            Objects.requireNonNull(generationId, "generationId");
            if (!Double.isFinite(reward)) {
                throw new IllegalArgumentException("generation " + generationId + " has reward " + reward
                        + "; a scored record's reward must be finite");
            }
            if (sides.get(side).put(generationId, new Entry(Objects.requireNonNull(promptId, "promptId"), reward,
                    Objects.requireNonNull(version, "version"))) != null) {
                duplicates++;
            }
            return this;
        }

        /** The comparison of what was added. */
        public ScoringComparison build() {
            Map<String, Entry> a = sides.get(0);
            Map<String, Entry> b = sides.get(1);
            List<String> joinedIds = a.keySet().stream().filter(b::containsKey).toList();
            double[] ra = new double[joinedIds.size()];
            double[] rb = new double[joinedIds.size()];
            // prompt -> joined generation ids, in a stable order
            Map<String, List<String>> groups = new TreeMap<>();
            for (int i = 0; i < joinedIds.size(); i++) {
                String id = joinedIds.get(i);
                ra[i] = a.get(id).reward();
                rb[i] = b.get(id).reward();
                groups.computeIfAbsent(a.get(id).promptId(), k -> new ArrayList<>()).add(id);
            }
            Accuracy agreement = new Accuracy(0, 0);
            int tied = 0;
            // side -> version -> agreement on pairs that version scored on both ends
            List<Map<String, Accuracy>> byVersion = List.of(new TreeMap<>(), new TreeMap<>());
            for (List<String> group : groups.values()) {
                for (int i = 0; i < group.size(); i++) {
                    for (int j = i + 1; j < group.size(); j++) {
                        Entry ai = a.get(group.get(i));
                        Entry aj = a.get(group.get(j));
                        Entry bi = b.get(group.get(i));
                        Entry bj = b.get(group.get(j));
                        int orderA = Double.compare(ai.reward(), aj.reward());
                        int orderB = Double.compare(bi.reward(), bj.reward());
                        if (orderA == 0 || orderB == 0) {
                            tied++;
                            continue;
                        }
                        boolean same = orderA == orderB;
                        agreement = agreement.plus(same);
                        if (ai.version().equals(aj.version())) {
                            byVersion.get(0).merge(ai.version(), new Accuracy(same ? 1 : 0, 1), Accumulator::sum);
                        }
                        if (bi.version().equals(bj.version())) {
                            byVersion.get(1).merge(bi.version(), new Accuracy(same ? 1 : 0, 1), Accumulator::sum);
                        }
                    }
                }
            }
            return new ScoringComparison(joinedIds.size(), a.size() - joinedIds.size(), b.size() - joinedIds.size(),
                    duplicates, agreement, tied, spearman(ra, rb), mean(ra), mean(rb),
                    table(a, b, byVersion.get(0)), table(b, a, byVersion.get(1)));
        }

        private static List<VersionRow> table(Map<String, Entry> side, Map<String, Entry> other,
                                              Map<String, Accuracy> agreement) {
            Map<String, double[]> sums = new TreeMap<>();  // version -> {n, joined, reward sum}
            side.forEach((id, e) -> {
                double[] s = sums.computeIfAbsent(e.version(), k -> new double[3]);
                s[0]++;
                s[1] += other.containsKey(id) ? 1 : 0;
                s[2] += e.reward();
            });
            List<VersionRow> rows = new ArrayList<>();
            sums.forEach((version, s) -> rows.add(new VersionRow(version, (int) s[0], (int) s[1], s[2] / s[0],
                    agreement.getOrDefault(version, new Accuracy(0, 0)))));
            return rows;
        }

        private static Accuracy sum(Accuracy x, Accuracy y) {
            return new Accuracy(x.correct() + y.correct(), x.n() + y.n());
        }
    }

    /**
     * Spearman's rank correlation: Pearson's correlation of the ranks, ties sharing their mean rank (the definition
     * that stays exact with ties, unlike {@code 1 - 6 sum d^2 / (n (n^2 - 1))}).
     *
     * @return the correlation in [-1, 1], or NaN for fewer than two values or a side without spread
     */
    public static double spearman(double[] x, double[] y) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("spearman needs two samples of one length, got " + x.length + " and "
                    + y.length);
        }
        if (x.length < 2) {
            return Double.NaN;
        }
        return pearson(ranks(x), ranks(y));
    }

    /** Ranks from 1, ties given the mean of the ranks they span. */
    static double[] ranks(double[] values) {
        Integer[] order = new Integer[values.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (p, q) -> Double.compare(values[p], values[q]));
        double[] ranks = new double[values.length];
        for (int start = 0; start < order.length; ) {
            int end = start;
            while (end + 1 < order.length && values[order[end + 1]] == values[order[start]]) {
                end++;
            }
            double rank = (start + end) / 2.0 + 1;
            for (int k = start; k <= end; k++) {
                ranks[order[k]] = rank;
            }
            start = end + 1;
        }
        return ranks;
    }

    private static double pearson(double[] x, double[] y) {
        double mx = mean(x);
        double my = mean(y);
        double sxy = 0;
        double sxx = 0;
        double syy = 0;
        for (int i = 0; i < x.length; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxx == 0 || syy == 0 ? Double.NaN : sxy / Math.sqrt(sxx * syy);
    }

    private static double mean(double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return values.length == 0 ? Double.NaN : sum / values.length;
    }
}
