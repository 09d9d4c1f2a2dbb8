package io.streamrlhf.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class MetricsEndpointTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    static HttpResponse<String> get(URI uri) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    @Test
    void metricsAreValidPrometheusTextWithAComponentLabelAndCountersMove() throws Exception {
        AtomicBoolean loaded = new AtomicBoolean();
        HealthChecks health = new HealthChecks().ready("model loaded", loaded::get);
        try (ServiceMeters meters = ServiceMeters.create("demo");
             MetricsEndpoint endpoint = MetricsEndpoint.start("127.0.0.1", 0, meters, health)) {
            health.register(meters.component("demo"));
            Counter worker = Counter.builder("rlhf.worker.generations").register(meters.component("worker"));
            Timer.builder("rlhf.learner.checkpoint.write").register(meters.component("learn"))
                    .record(Duration.ofMillis(30));
            assertThat(endpoint.port()).isPositive();
            assertThat(endpoint.metricsUrl().toString()).endsWith(":" + endpoint.port() + "/metrics");

            HttpResponse<String> first = get(endpoint.metricsUrl());
            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(first.headers().firstValue("Content-Type")).hasValue(MetricsEndpoint.CONTENT_TYPE);
            PrometheusText.Scrape before = PrometheusText.parse(first.body());
            assertThat(before.sum("rlhf_worker_generations_total", Map.of("component", "worker"))).isZero();
            assertThat(before.types()).containsEntry("rlhf_worker_generations_total", "counter");
            assertThat(before.names()).contains("jvm_memory_used_bytes", "process_cpu_usage", "process_uptime_seconds",
                    "rlhf_learner_checkpoint_write_seconds_count", "rlhf_ready");
            assertThat(before.find("jvm_memory_used_bytes", Map.of())).allSatisfy(s ->
                    assertThat(s.labels()).containsEntry("component", "demo"));
            assertThat(before.sum("rlhf_learner_checkpoint_write_seconds_sum", Map.of("component", "learn")))
                    .isCloseTo(0.030, org.assertj.core.data.Offset.offset(1e-9));
            assertThat(before.sum("rlhf_ready", Map.of())).isZero();

            worker.increment(12);
            loaded.set(true);
            PrometheusText.Scrape after = PrometheusText.parse(get(endpoint.metricsUrl()).body());
            assertThat(after.sum("rlhf_worker_generations_total", Map.of("component", "worker"))).isEqualTo(12);
            assertThat(after.sum("rlhf_ready", Map.of("component", "demo"))).isEqualTo(1);
        }
    }

    @Test
    void healthEndpointsAnswer200WhenPassingAnd503NamingTheFailingCheck() throws Exception {
        AtomicBoolean assigned = new AtomicBoolean();
        HealthChecks health = new HealthChecks().ready("connected", () -> true).ready("assigned", assigned::get);
        try (ServiceMeters meters = ServiceMeters.create("worker");
             MetricsEndpoint endpoint = MetricsEndpoint.start("127.0.0.1", 0, meters, health)) {
            assertThat(get(endpoint.baseUrl().resolve("/health/live")).statusCode()).isEqualTo(200);
            HttpResponse<String> notReady = get(endpoint.baseUrl().resolve("/health/ready"));
            assertThat(notReady.statusCode()).isEqualTo(503);
            assertThat(notReady.body()).contains("connected ok", "assigned FAILING");
            assigned.set(true);
            assertThat(get(endpoint.baseUrl().resolve("/health/ready")).statusCode()).isEqualTo(200);
            assertThat(get(endpoint.baseUrl().resolve("/nothing")).statusCode()).isEqualTo(404);
        }
    }

    @Test
    void aProcessThatSaysNothingAboutReadinessIsNotReadyAndAThrowingCheckFails() {
        assertThat(new HealthChecks().ready().ok()).isFalse();
        HealthChecks.Report r = new HealthChecks().ready("boom", () -> {
            throw new IllegalStateException("x");
        }).ready();
        assertThat(r.ok()).isFalse();
        assertThat(r.checks()).containsEntry("boom", false);
    }

    @Test
    void badPortsAndNamesAreRefusedNamingThem() {
        assertThatThrownBy(() -> MetricsEndpoint.start("127.0.0.1", 70000, () -> "", new HealthChecks()))
                .hasMessageContaining("--metrics-port 70000");
        assertThatThrownBy(() -> ServiceMeters.create("Worker 1")).hasMessageContaining("'Worker 1'");
    }

    @Test
    void theParserRejectsWhatPrometheusRejects() {
        assertThatThrownBy(() -> PrometheusText.parse("1bad 3\n")).hasMessageContaining("line 1");
        assertThatThrownBy(() -> PrometheusText.parse("# TYPE a counter\n# TYPE a counter\n"))
                .hasMessageContaining("second TYPE");
        assertThatThrownBy(() -> PrometheusText.parse("a{x=\"1\"} 1\nb 2\na{x=\"2\"} 3\n"))
                .hasMessageContaining("line 3").hasMessageContaining("split");
        assertThatThrownBy(() -> PrometheusText.parse("a{x=1} 1\n")).hasMessageContaining("bad label set");
        assertThatThrownBy(() -> PrometheusText.parse("a 1\na 2\n")).hasMessageContaining("duplicate series");
        assertThatThrownBy(() -> PrometheusText.parse("a one\n")).hasMessageContaining("bad value 'one'");
        PrometheusText.Scrape ok = PrometheusText.parse(
                "# HELP h_seconds x\n# TYPE h_seconds histogram\nh_seconds_bucket{le=\"+Inf\",q=\"a\\\"b\"} 2\n"
                        + "h_seconds_count 2\nh_seconds_sum 0.5\n");
        assertThat(ok.find("h_seconds_bucket", Map.of("q", "a\"b"))).hasSize(1);
        assertThat(ok.sum("h_seconds_count", Map.of())).isEqualTo(2);
    }
}
