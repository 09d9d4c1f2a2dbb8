package io.streamrlhf.learner.rm.eval;

import io.streamrlhf.learner.rm.EncodedPair;
import io.streamrlhf.models.reward.RewardModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Evaluation of one reward-model version on held-out data: pairwise accuracy against the labels, and
 * on the synthetic world accuracy against the gold reward and Best-of-N accuracy (RMB's two views).
 *
 * @param pairs            held-out pairs evaluated
 * @param pairwiseAccuracy share of pairs where r(chosen) &gt; r(rejected) (ties count half)
 * @param goldAccuracy     share of pairs with different gold rewards where the model orders them as the
 *                         gold reward does (ties count half); {@code NaN} without gold
 * @param bestOfNAccuracy  share of groups whose gold-best response the model scores above every other;
 *                         {@code NaN} without groups
 * @param meanMargin       mean r(chosen) − r(rejected)
 */
public record RmEvaluation(int pairs, double pairwiseAccuracy, double goldAccuracy, double bestOfNAccuracy,
                           double meanMargin) {

    /** Scores per inference batch. */
    static final int SCORE_BATCH = 128;

    /** Evaluates {@code model} on held-out pairs and (possibly empty) Best-of-N groups. */
    public static RmEvaluation of(RewardModel model, List<EncodedPair> heldOut, List<BestOfNGroup> bestOfN) {
        double[] diffs = differences(model, heldOut);
        double agree = 0;
        double gold = 0;
        int goldPairs = 0;
        double margin = 0;
        for (int i = 0; i < diffs.length; i++) {
            agree += diffs[i] > 0 ? 1 : diffs[i] == 0 ? 0.5 : 0;
            margin += diffs[i];
            EncodedPair p = heldOut.get(i);
            if (p.hasGold() && p.chosenGold() != p.rejectedGold()) {
                double goldSign = Math.signum(p.chosenGold() - p.rejectedGold());
                gold += diffs[i] * goldSign > 0 ? 1 : diffs[i] == 0 ? 0.5 : 0;
                goldPairs++;
            }
        }
        int n = diffs.length;
        return new RmEvaluation(n, n == 0 ? Double.NaN : agree / n, goldPairs == 0 ? Double.NaN : gold / goldPairs,
                bestOfN(model, bestOfN), n == 0 ? Double.NaN : margin / n);
    }

    /** Best-of-N accuracy over the groups with a unique gold-best response; {@code NaN} when there are none. */
    public static double bestOfN(RewardModel model, List<BestOfNGroup> groups) {
        List<int[]> prompts = new ArrayList<>();
        List<int[]> responses = new ArrayList<>();
        for (BestOfNGroup g : groups) {
            for (int[] r : g.responses()) {
                prompts.add(g.prompt());
                responses.add(r);
            }
        }
        float[] scores = scores(model, prompts, responses);
        int at = 0;
        int counted = 0;
        int right = 0;
        for (BestOfNGroup g : groups) {
            int best = g.goldBest();
            int n = g.responses().size();
            if (best >= 0) {
                boolean wins = true;
                for (int i = 0; i < n; i++) {
                    if (i != best && scores[at + i] >= scores[at + best]) {
                        wins = false;
                    }
                }
                counted++;
                right += wins ? 1 : 0;
            }
            at += n;
        }
        return counted == 0 ? Double.NaN : (double) right / counted;
    }

    /** r(chosen) − r(rejected) per pair. */
    public static double[] differences(RewardModel model, List<EncodedPair> pairs) {
        List<int[]> prompts = new ArrayList<>(2 * pairs.size());
        List<int[]> responses = new ArrayList<>(2 * pairs.size());
        for (EncodedPair p : pairs) {
            prompts.add(p.conversation());
            responses.add(p.chosen());
        }
        for (EncodedPair p : pairs) {
            prompts.add(p.conversation());
            responses.add(p.rejected());
        }
        float[] s = scores(model, prompts, responses);
        double[] out = new double[pairs.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = s[i] - s[pairs.size() + i];
        }
        return out;
    }

    /** Scores many (prompt, response) sequences in inference batches. */
    public static float[] scores(RewardModel model, List<int[]> prompts, List<int[]> responses) {
        float[] out = new float[prompts.size()];
        for (int from = 0; from < prompts.size(); from += SCORE_BATCH) {
            int to = Math.min(prompts.size(), from + SCORE_BATCH);
            float[] s = model.score(prompts.subList(from, to), responses.subList(from, to)).scores();
            System.arraycopy(s, 0, out, from, s.length);
        }
        return out;
    }

    /** Metric map with namespaced names ({@code eval/pairwise_accuracy}, ...), NaNs left out. */
    public Map<String, Double> metrics() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("eval/pairs", (double) pairs);
        put(m, "eval/pairwise_accuracy", pairwiseAccuracy);
        put(m, "eval/gold_accuracy", goldAccuracy);
        put(m, "eval/bon_accuracy", bestOfNAccuracy);
        put(m, "eval/mean_margin", meanMargin);
        return m;
    }

    private static void put(Map<String, Double> m, String k, double v) {
        if (!Double.isNaN(v)) {
            m.put(k, v);
        }
    }
}
