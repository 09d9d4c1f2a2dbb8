package io.streamrlhf.evaluator.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.evaluator.metrics.Accuracy;
import io.streamrlhf.evaluator.metrics.GoalAccuracy;
import io.streamrlhf.evaluator.metrics.PolicyComparison;
import io.streamrlhf.evaluator.metrics.RmComparison;
import io.streamrlhf.evaluator.metrics.RmbEvaluation;
import io.streamrlhf.evaluator.metrics.RmbMetrics;
import io.streamrlhf.evaluator.metrics.ScenarioAccuracy;
import io.streamrlhf.evaluator.metrics.ScoringComparison;
import java.util.List;
import java.util.Map;

/**
 * The JSON form of an evaluation, one object on one line:
 *
 * <pre>
 * {"pairwise":{"accuracy":0.5,"n":8},"bon":{"accuracy":0.6,"n":5},
 *  "by_scenario":[{"category_path":"Pairwise_set/Helpfulness/Chat","set":"pairwise","goal":"helpfulness","accuracy":0.5,"n":4},...],
 *  "by_goal":[{"goal":"helpfulness","set":"pairwise","accuracy":0.6,"n":5},...],
 *  "overall":0.525,"voting":"rule-length","sources":{"rule-length":{...same figures...}}}
 * </pre>
 *
 * <p>The headline fields are the majority vote's with several sources, else the single source's ({@code voting} says
 * which). A figure with no items is {@code null}. Replays of {@code generations} or {@code scored} add
 * {@code policies} and {@code reward_models}.
 */
public final class JsonReport {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private JsonReport() {
    }

    /** The RMB evaluation as JSON. */
    public static ObjectNode of(RmbEvaluation evaluation) {
        ObjectNode root = metrics(evaluation.primary());
        root.put("voting", evaluation.primaryName());
        ObjectNode sources = root.putObject("sources");
        for (Map.Entry<String, RmbMetrics> e : evaluation.bySource().entrySet()) {
            sources.set(e.getKey(), metrics(e.getValue()));
        }
        return root;
    }

    /** One evaluator's figures. */
    public static ObjectNode metrics(RmbMetrics m) {
        ObjectNode node = MAPPER.createObjectNode();
        node.set("pairwise", accuracy(m.pairwise()));
        node.set("bon", accuracy(m.bon()));
        ArrayNode scenarios = node.putArray("by_scenario");
        for (ScenarioAccuracy s : m.byScenario()) {
            ObjectNode e = scenarios.addObject();
            e.put("category_path", s.categoryPath());
            e.put("set", s.set().label());
            e.put("goal", s.goal().label());
            number(e, "accuracy", s.accuracy().accuracy());
            e.put("n", s.accuracy().n());
        }
        ArrayNode goals = node.putArray("by_goal");
        for (GoalAccuracy g : m.byGoal()) {
            ObjectNode e = goals.addObject();
            e.put("goal", g.goal().label());
            e.put("set", g.set().label());
            number(e, "accuracy", g.accuracy().accuracy());
            e.put("n", g.accuracy().n());
        }
        number(node, "overall", m.overall());
        return node;
    }

    /** The policy comparison and reward-model comparison of a replayed topic. */
    public static ObjectNode of(PolicyComparison policies, RmComparison rms) {
        ObjectNode root = MAPPER.createObjectNode();
        ArrayNode p = root.putArray("policies");
        for (PolicyComparison.Row row : policies.rows()) {
            ObjectNode e = p.addObject();
            e.put("policy", row.policyName());
            e.put("policy_version", row.policyVersion());
            e.put("n", row.n());
            number(e, "reward_mean", row.rewardMean());
            number(e, "reward_std", row.rewardStd());
            number(e, "gold_mean", row.goldMean());
            number(e, "response_tokens_mean", row.responseTokensMean());
        }
        if (rms != null) {
            ArrayNode r = root.putArray("reward_models");
            for (RmComparison.Row row : rms.rows()) {
                ObjectNode e = r.addObject();
                e.put("scorer", row.scorer());
                if (row.version() != null) {
                    e.put("version", row.version());
                } else {
                    e.putNull("version");
                }
                e.put("n", row.n());
                number(e, "score_mean", row.scoreMean());
                e.put("gold_pairs", row.goldPairs().n());
                number(e, "gold_pair_accuracy", row.goldPairs().accuracy());
            }
            root.put("shared_pairs", rms.sharedPairs());
        }
        return root;
    }

    /**
     * Two scorings compared ({@code rlhf replay --compare}):
     *
     * <pre>
     * {"joined":40,"only_first":0,"only_second":2,"duplicates":0,"agreement":0.85,"agreement_pairs":40,
     *  "tied_pairs":0,"spearman":0.91,"reward_mean_first":0.1,"reward_mean_second":0.3,
     *  "first_versions":[{"version":"rm@v1","n":40,"joined":40,"reward_mean":0.1,"agreement":0.85,
     *  "agreement_pairs":40}],"second_versions":[...]}
     * </pre>
     */
    public static ObjectNode of(ScoringComparison c) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("joined", c.joined());
        root.put("only_first", c.onlyFirst());
        root.put("only_second", c.onlySecond());
        root.put("duplicates", c.duplicates());
        number(root, "agreement", c.agreement().accuracy());
        root.put("agreement_pairs", c.agreement().n());
        root.put("tied_pairs", c.tiedPairs());
        number(root, "spearman", c.spearman());
        number(root, "reward_mean_first", c.rewardMeanFirst());
        number(root, "reward_mean_second", c.rewardMeanSecond());
        versions(root.putArray("first_versions"), c.first());
        versions(root.putArray("second_versions"), c.second());
        return root;
    }

    private static void versions(ArrayNode array, List<ScoringComparison.VersionRow> rows) {
        for (ScoringComparison.VersionRow row : rows) {
            ObjectNode e = array.addObject();
            e.put("version", row.version());
            e.put("n", row.n());
            e.put("joined", row.joined());
            number(e, "reward_mean", row.rewardMean());
            number(e, "agreement", row.agreement().accuracy());
            e.put("agreement_pairs", row.agreement().n());
        }
    }

    /** Compact one-line JSON. */
    public static String line(ObjectNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the JSON report", e);
        }
    }

    private static ObjectNode accuracy(Accuracy a) {
        ObjectNode node = MAPPER.createObjectNode();
        number(node, "accuracy", a.accuracy());
        node.put("n", a.n());
        return node;
    }

    /** JSON has no NaN: a figure with no data is null. */
    private static void number(ObjectNode node, String field, double value) {
        if (Double.isFinite(value)) {
            node.put(field, value);
        } else {
            node.putNull(field);
        }
    }
}
