package io.streamrlhf.producer.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.streamrlhf.embedded.EmbeddedKafkaBroker;
import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.ops.MetricsEndpoint;
import io.streamrlhf.ops.PrometheusText;
import io.streamrlhf.ops.ServiceMeters;
import io.streamrlhf.ops.testing.RealPrometheus;
import io.streamrlhf.producer.ItCluster;
import io.streamrlhf.producer.TestPolicies;
import io.streamrlhf.producer.feed.PromptSender;
import io.streamrlhf.producer.feed.SyntheticPromptFeed;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker's operations endpoint against a real broker: {@code /metrics} is valid Prometheus text whose generation
 * counter rises by exactly the generations produced, {@code /health/ready} turns ready after assignment and model
 * load and unready when the broker goes, and a real Prometheus server computes the generation rate.
 */
class WorkerEndpointIT {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    private static HttpResponse<String> get(URI uri) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static Map<String, Object> settings(ItCluster cluster, String id) {
        Map<String, Object> s = cluster.settings();
        s.put(WorkerConfig.POLICY_NAME, "chat");
        s.put(WorkerConfig.WORKER_ID, id);
        s.put(WorkerConfig.BATCH_MAX_SIZE, 8);
        s.put(WorkerConfig.BATCH_MAX_WAIT_MS, 100L);
        s.put(WorkerConfig.MAX_NEW_TOKENS, 8);
        s.put(WorkerConfig.POLICY_WAIT_MS, 60_000L);
        return s;
    }

    @Test
    void generationsCounterRisesByTheGenerationsProducedAndReadinessFollowsTheBroker() throws Exception {
        int n = 10;
        int k = 2;
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().start()) {
            ItCluster cluster = new ItCluster("worker-endpoint", 2, broker.bootstrapServers());
            cluster.publish(TestPolicies.version("chat", 3, TestPolicies.save(TestPolicies.checkpoint(1), dir, "v3")));
            try (ServiceMeters meters = ServiceMeters.create("worker");
                 WorkerPool pool = new WorkerPool(settings(cluster, "ep"), 2, Optional.empty(),
                         meters.component("worker"))) {
                HealthChecks health = pool.health(new HealthChecks()).register(meters.component("worker"));
                try (MetricsEndpoint endpoint = MetricsEndpoint.start("127.0.0.1", 0, meters, health)) {
                    URI ready = endpoint.baseUrl().resolve("/health/ready");
                    assertThat(get(ready).statusCode()).as("not started: not ready").isEqualTo(503);
                    PrometheusText.Scrape before = PrometheusText.parse(get(endpoint.metricsUrl()).body());
                    assertThat(before.sum("rlhf_worker_generations_total", Map.of())).isZero();

                    pool.start();
                    await().atMost(Duration.ofMinutes(2)).until(() -> get(ready).statusCode() == 200);
                    assertThat(get(ready).body()).contains("connected ok", "assigned ok", "model loaded ok");
                    try (PromptSender sender = new PromptSender(cluster.topics(), cluster.settings())) {
                        assertThat(sender.sendAll(new SyntheticPromptFeed(5, k).next(n))).isEqualTo(n);
                    }
                    await().atMost(Duration.ofMinutes(2)).until(() ->
                            pool.workers().stream().mapToLong(PolicyWorker::generationsCommitted).sum() >= n * k);
                    Thread.sleep(500);

                    HttpResponse<String> response = get(endpoint.metricsUrl());
                    assertThat(response.headers().firstValue("Content-Type")).hasValue(MetricsEndpoint.CONTENT_TYPE);
                    PrometheusText.Scrape after = PrometheusText.parse(response.body());
                    assertThat(after.sum("rlhf_worker_generations_total", Map.of("component", "worker",
                            "policy", "chat"))).isEqualTo(n * k);
                    assertThat(after.find("rlhf_worker_generations_total", Map.of())).hasSize(2);
                    assertThat(after.find("rlhf_worker_policy_version", Map.of("component", "worker")))
                            .hasSize(2).allSatisfy(s -> assertThat(s.value()).isEqualTo(3));
                    assertThat(after.sum("rlhf_worker_transactions_total", Map.of("outcome", "committed")))
                            .isPositive();
                    assertThat(after.sum("rlhf_ready", Map.of("component", "worker"))).isEqualTo(1);
                    // Micrometer's Kafka binders: the consumers' lag and the producers' sends, per client.
                    assertThat(after.names()).contains("kafka_consumer_fetch_manager_records_lag_max",
                            "kafka_producer_record_send_total", "jvm_memory_used_bytes", "process_cpu_usage");
                    assertThat(after.find("kafka_producer_record_send_total", Map.of("component", "worker")))
                            .isNotEmpty();

                    broker.stop();
                    await().atMost(Duration.ofSeconds(60)).until(() -> get(ready).statusCode() == 503);
                    assertThat(get(ready).body()).contains("connected FAILING");
                    assertThat(get(endpoint.baseUrl().resolve("/health/live")).statusCode()).isEqualTo(200);
                    broker.start();  // lets the workers close their transactions cleanly
                    await().atMost(Duration.ofMinutes(1)).until(() -> get(ready).statusCode() == 200);
                }
            }
        }
    }

    @Test
    void aRealPrometheusScrapesARunningWorkerAndComputesTheGenerationRate() throws Exception {
        assumeTrue(RealPrometheus.binary().isPresent(), RealPrometheus.MISSING);
        ItCluster cluster = new ItCluster("worker-prometheus", 2);
        cluster.publish(TestPolicies.version("chat", 0, TestPolicies.save(TestPolicies.checkpoint(2), dir, "v0")));
        try (ServiceMeters meters = ServiceMeters.create("worker");
             WorkerPool pool = new WorkerPool(settings(cluster, "prom"), 1, Optional.empty(),
                     meters.component("worker"));
             MetricsEndpoint endpoint = MetricsEndpoint.start("127.0.0.1", 0, meters,
                     pool.health(new HealthChecks()));
             RealPrometheus prometheus = RealPrometheus.scrape(dir, List.of("127.0.0.1:" + endpoint.port()),
                     Duration.ofMillis(500), List.of());
             PromptSender sender = new PromptSender(cluster.topics(), cluster.settings())) {
            pool.start();
            // Prompts keep arriving while Prometheus scrapes, so the rate over the window is above zero.
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                sender.sendAll(new SyntheticPromptFeed(7, 2).next(4));
                Optional<Double> rate = prometheus.value("sum(rate(rlhf_worker_generations_total[10s]))");
                return rate.isPresent() && rate.get() > 0;
            });
            long produced = pool.workers().get(0).generationsCommitted();
            Optional<Double> total = prometheus.value("sum(rlhf_worker_generations_total{component=\"worker\"})");
            assertThat(total).get().satisfies(t -> assertThat(t).isPositive().isLessThanOrEqualTo(produced));
            assertThat(prometheus.targets()).singleElement()
                    .satisfies(t -> assertThat(t.path("health").asText()).as(t.toString()).isEqualTo("up"));
        }
    }
}
