package io.streamrlhf.evaluator.metrics;

import io.streamrlhf.evaluator.rmb.RmbItem;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The result of evaluating RMB items with one or more voters (reward sources or judges).
 *
 * @param voters    the voters' names, in ensemble order
 * @param bySource  each voter's own metrics
 * @param majority  the majority vote's metrics when there are several voters, else {@code null}
 * @param items     every item with its scores and verdicts, in input order
 */
public record RmbEvaluation(List<String> voters, Map<String, RmbMetrics> bySource, RmbMetrics majority,
                            List<ScoredItem> items) {

    /** Copies the collections. */
    public RmbEvaluation {
        voters = List.copyOf(voters);
        bySource = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(bySource));
        items = List.copyOf(items);
    }

    /** Computes every voter's metrics and, with several voters, the majority vote's. */
    public static RmbEvaluation of(List<String> voters, List<ScoredItem> items) {
        List<RmbItem> plain = new ArrayList<>(items.size());
        items.forEach(s -> plain.add(s.item()));
        Map<String, RmbMetrics> bySource = new LinkedHashMap<>();
        for (int v = 0; v < voters.size(); v++) {
            boolean[] correct = new boolean[items.size()];
            for (int i = 0; i < correct.length; i++) {
                correct[i] = items.get(i).correct()[v];
            }
            bySource.put(voters.get(v), RmbMetrics.of(plain, correct));
        }
        RmbMetrics majority = null;
        if (voters.size() > 1) {
            boolean[] correct = new boolean[items.size()];
            for (int i = 0; i < correct.length; i++) {
                correct[i] = items.get(i).majority();
            }
            majority = RmbMetrics.of(plain, correct);
        }
        return new RmbEvaluation(voters, bySource, majority, items);
    }

    /** The headline metrics: the majority vote's with several voters, else the single voter's. */
    public RmbMetrics primary() {
        return majority != null ? majority : bySource.get(voters.get(0));
    }

    /** How the headline was formed: the voter's name, or {@code majority}. */
    public String primaryName() {
        return majority != null ? "majority" : voters.get(0);
    }
}
