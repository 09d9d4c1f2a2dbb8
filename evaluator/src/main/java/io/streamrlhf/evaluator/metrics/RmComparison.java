package io.streamrlhf.evaluator.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Reward models (or any scorers, each at a model version) side by side on the same generations: how many each scored,
 * its mean raw score, and, where gold rewards are known (the synthetic world), its accuracy on pairs of responses to
 * the same prompt whose gold rewards differ (right when it orders them as gold does, strictly; ties are wrong, as in
 * RMB). Only pairs that every scorer scored count, so the rows compare like with like.
 *
 * @param rows        one row per scorer and version, in order of first appearance
 * @param sharedPairs same-prompt pairs with different gold that every row scored
 */
public record RmComparison(List<Row> rows, int sharedPairs) {

    /** Copies the rows. */
    public RmComparison {
        rows = List.copyOf(rows);
    }

    /**
     * One scorer version's figures.
     *
     * @param scorer    the scorer's name
     * @param version   its model version, or {@code null} for rules
     * @param n         generations it scored
     * @param scoreMean mean raw score
     * @param goldPairs its accuracy on the shared gold pairs
     */
    public record Row(String scorer, Long version, int n, double scoreMean, Accuracy goldPairs) {

        /** {@code scorer} or {@code scorer@vN}. */
        public String label() {
            return version == null ? scorer : scorer + "@v" + version;
        }
    }

    /** Collects scores; not thread-safe. */
    public static final class Accumulator {
        private final Map<String, Row> keys = new LinkedHashMap<>();
        /** scorer key -> generation id -> raw score */
        private final Map<String, Map<String, Double>> scores = new LinkedHashMap<>();
        /** prompt id -> generation id -> gold */
        private final Map<String, Map<String, Double>> gold = new TreeMap<>();

        /** Records one scorer's raw score of a generation. */
        public Accumulator score(String scorer, Long version, String generationId, double raw) {
            Objects.requireNonNull(generationId, "generationId");
            String key = version == null ? scorer : scorer + "@v" + version;
            keys.putIfAbsent(key, new Row(scorer, version, 0, Double.NaN, new Accuracy(0, 0)));
            if (Double.isFinite(raw)) {
                scores.computeIfAbsent(key, k -> new HashMap<>()).put(generationId, raw);
            }
            return this;
        }

        /** Records a generation's prompt and gold reward (NaN when unknown). */
        public Accumulator generation(String promptId, String generationId, double goldReward) {
            if (Double.isFinite(goldReward)) {
                gold.computeIfAbsent(promptId, k -> new TreeMap<>()).put(generationId, goldReward);
            }
            return this;
        }

        public RmComparison build() {
            // Pairs of same-prompt generations with different gold that every scorer scored.
            List<String[]> pairs = new ArrayList<>();
            for (Map<String, Double> group : gold.values()) {
                List<String> ids = new ArrayList<>(group.keySet());
                for (int a = 0; a < ids.size(); a++) {
                    for (int b = a + 1; b < ids.size(); b++) {
                        if (!group.get(ids.get(a)).equals(group.get(ids.get(b))) && scoredByAll(ids.get(a), ids.get(b))) {
                            // Better one first.
                            boolean aBetter = group.get(ids.get(a)) > group.get(ids.get(b));
                            pairs.add(aBetter ? new String[] {ids.get(a), ids.get(b)}
                                    : new String[] {ids.get(b), ids.get(a)});
                        }
                    }
                }
            }
            List<Row> rows = new ArrayList<>();
            for (Map.Entry<String, Row> e : keys.entrySet()) {
                Map<String, Double> s = scores.getOrDefault(e.getKey(), Map.of());
                double sum = 0;
                for (double v : s.values()) {
                    sum += v;
                }
                Accuracy acc = new Accuracy(0, 0);
                for (String[] pair : pairs) {
                    acc = acc.plus(s.get(pair[0]) > s.get(pair[1]));
                }
                rows.add(new Row(e.getValue().scorer(), e.getValue().version(), s.size(),
                        s.isEmpty() ? Double.NaN : sum / s.size(), acc));
            }
            return new RmComparison(rows, pairs.size());
        }

        private boolean scoredByAll(String a, String b) {
            if (keys.isEmpty()) {
                return false;
            }
            for (String key : keys.keySet()) {
                Map<String, Double> s = scores.getOrDefault(key, Map.of());
                if (!s.containsKey(a) || !s.containsKey(b)) {
                    return false;
                }
            }
            return true;
        }
    }
}
