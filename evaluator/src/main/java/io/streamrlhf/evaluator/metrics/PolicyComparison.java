package io.streamrlhf.evaluator.metrics;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reward (and, on the synthetic world, gold reward) by policy version, from replayed {@code generations} (scored here)
 * or {@code scored} records: the figures that show whether training improves the policy, and whether the proxy reward
 * rises while the gold reward falls (reward hacking).
 *
 * @param rows one row per (policy name, version), sorted by name then version
 */
public record PolicyComparison(List<Row> rows) {

    /** Copies the rows. */
    public PolicyComparison {
        rows = List.copyOf(rows);
    }

    /**
     * One policy version's figures.
     *
     * @param policyName         the policy's name
     * @param policyVersion      its version
     * @param n                  generations seen
     * @param rewardMean         mean reward of the scored ones, NaN when none was scored
     * @param rewardStd          population std of those rewards
     * @param goldMean           mean gold reward, NaN without gold
     * @param responseTokensMean mean response length in tokens
     */
    public record Row(String policyName, long policyVersion, int n, double rewardMean, double rewardStd,
                      double goldMean, double responseTokensMean) {
    }

    /** Collects observations; not thread-safe. */
    public static final class Accumulator {
        private final Map<String, Stats> byVersion = new TreeMap<>();

        /**
         * Adds one generation.
         *
         * @param reward its reward, NaN when it could not be scored
         * @param gold   its gold reward, NaN when unknown
         */
        public Accumulator add(String policyName, long policyVersion, double reward, double gold, int responseTokens) {
            Stats s = byVersion.computeIfAbsent(policyName + "\u0000" + String.format("%020d", policyVersion),
                    k -> new Stats(policyName, policyVersion));
            s.n++;
            s.tokens += responseTokens;
            if (Double.isFinite(reward)) {
                s.rewardN++;
                s.rewardSum += reward;
                s.rewardSquares += reward * reward;
            }
            if (Double.isFinite(gold)) {
                s.goldN++;
                s.goldSum += gold;
            }
            return this;
        }

        public PolicyComparison build() {
            List<Row> rows = new ArrayList<>();
            for (Stats s : byVersion.values()) {
                double mean = s.rewardN == 0 ? Double.NaN : s.rewardSum / s.rewardN;
                double var = s.rewardN == 0 ? Double.NaN : Math.max(0, s.rewardSquares / s.rewardN - mean * mean);
                rows.add(new Row(s.name, s.version, s.n, mean, Math.sqrt(var),
                        s.goldN == 0 ? Double.NaN : s.goldSum / s.goldN, (double) s.tokens / s.n));
            }
            rows.sort(Comparator.comparing(Row::policyName).thenComparingLong(Row::policyVersion));
            return new PolicyComparison(rows);
        }
    }

    private static final class Stats {
        final String name;
        final long version;
        int n;
        long tokens;
        int rewardN;
        double rewardSum;
        double rewardSquares;
        int goldN;
        double goldSum;

        Stats(String name, long version) {
            this.name = name;
            this.version = version;
        }
    }
}
