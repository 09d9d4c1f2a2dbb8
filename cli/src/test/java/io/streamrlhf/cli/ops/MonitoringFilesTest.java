package io.streamrlhf.cli.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.ops.testing.RealPrometheus;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * compose/'s monitoring files are well formed: the dashboard is valid JSON whose every panel queries Prometheus, the
 * alert rules pass {@code promtool check rules}, and Prometheus' config loads them. {@code DemoSmokeIT} checks that
 * every series they name exists in a real scrape.
 */
class MonitoringFilesTest {

    @Test
    void theDashboardIsValidJsonAndEveryPanelQueriesASeriesOfOurs() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(MonitoringFiles.DASHBOARD.toFile());
        assertThat(dashboard.path("uid").asText()).isEqualTo("streamrlhf");
        assertThat(dashboard.path("panels")).isNotEmpty().allSatisfy(panel -> {
            assertThat(panel.path("datasource").path("uid").asText()).as(panel.toString()).isEqualTo("prometheus");
            assertThat(panel.path("targets")).as(panel.path("title").asText()).isNotEmpty();
        });
        List<String> queries = MonitoringFiles.dashboardQueries();
        assertThat(queries).allSatisfy(q -> assertThat(MonitoringFiles.metricNames(q)).as(q).isNotEmpty());
        List<String> titles = dashboard.findValuesAsText("title");
        assertThat(String.join("|", titles)).contains("Throughput per stage", "Consumer lag per group", "versions",
                "Staleness", "Reward and KL", "Dead letters");
    }

    @Test
    @SuppressWarnings("unchecked")
    void prometheusConfigLoadsTheAlertRulesAndScrapesEveryService() throws Exception {
        Map<String, Object> config;
        try (Reader r = Files.newBufferedReader(MonitoringFiles.PROMETHEUS)) {
            config = new Yaml().load(r);
        }
        assertThat((List<String>) config.get("rule_files")).containsExactly("/etc/prometheus/alerts.yml");
        Map<String, Object> job = ((List<Map<String, Object>>) config.get("scrape_configs")).get(0);
        Map<String, Object> dns = ((List<Map<String, Object>>) job.get("dns_sd_configs")).get(0);
        assertThat((List<String>) dns.get("names")).contains("learn", "train-rm", "score", "worker", "feedback",
                "status");
        assertThat(dns.get("port")).isEqualTo(9404);
        assertThat(MonitoringFiles.alertExpressions()).containsKeys("StageStalled", "ConsumerLagGrowing",
                "DeadLettersRising", "PolicySwapRefused", "LearnerWithoutLeader");
    }

    @Test
    void theAlertRulesPassPromtool() throws Exception {
        assumeTrue(RealPrometheus.promtool().isPresent(), RealPrometheus.MISSING);
        Process p = new ProcessBuilder(RealPrometheus.promtool().get().toString(), "check", "rules",
                MonitoringFiles.ALERTS.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(output).isZero();
        assertThat(output).contains("SUCCESS: " + MonitoringFiles.alertExpressions().size() + " rules found");
    }
}
