package io.streamrlhf.cli.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.Yaml;

/** compose/'s monitoring files as the tests read them: the dashboard's queries and the alert rules' expressions. */
public final class MonitoringFiles {

    public static final Path COMPOSE = Path.of("..", "compose");
    public static final Path DASHBOARD = COMPOSE.resolve("grafana/dashboards/streamrlhf.json");
    public static final Path ALERTS = COMPOSE.resolve("prometheus/alerts.yml");
    public static final Path PROMETHEUS = COMPOSE.resolve("prometheus/prometheus.yml");
    /** Metric names in PromQL: ours, the Kafka clients', the JVM's and the process's (never a label or function). */
    private static final Pattern METRIC = Pattern.compile("\\b(?:rlhf|kafka|jvm|process)_[a-zA-Z0-9_]+");

    private MonitoringFiles() {
    }

    /** Every panel target's PromQL, in panel order. */
    public static List<String> dashboardQueries() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
        List<String> out = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                out.add(target.path("expr").asText());
            }
        }
        return out;
    }

    /** Every alert's expression, by alert name. */
    @SuppressWarnings("unchecked")
    public static Map<String, String> alertExpressions() throws IOException {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        try (Reader r = Files.newBufferedReader(ALERTS)) {
            Map<String, Object> root = new Yaml().load(r);
            for (Map<String, Object> group : (List<Map<String, Object>>) root.get("groups")) {
                for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
                    out.put(String.valueOf(rule.get("alert")), String.valueOf(rule.get("expr")));
                }
            }
        }
        return out;
    }

    /** The metric names a PromQL expression reads. */
    public static Set<String> metricNames(String promql) {
        Set<String> names = new TreeSet<>();
        Matcher m = METRIC.matcher(promql);
        while (m.find()) {
            names.add(m.group());
        }
        return names;
    }
}
