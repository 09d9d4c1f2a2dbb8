package io.streamrlhf.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.micrometer.core.instrument.Counter;
import io.streamrlhf.ops.testing.RealPrometheus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real Prometheus server accepts the endpoint's scrape and answers PromQL over what it served. */
class RealPrometheusScrapeIT {

    @TempDir
    Path dir;

    @Test
    void prometheusScrapesTheEndpointAndARateQueryAnswers() throws Exception {
        assumeTrue(RealPrometheus.binary().isPresent(), RealPrometheus.MISSING);
        try (ServiceMeters meters = ServiceMeters.create("worker");
             MetricsEndpoint endpoint = MetricsEndpoint.start("127.0.0.1", 0, meters,
                     new HealthChecks().ready("always", () -> true));
             RealPrometheus prometheus = RealPrometheus.scrape(dir, List.of("127.0.0.1:" + endpoint.port()),
                     Duration.ofMillis(500), List.of())) {
            Counter generations = Counter.builder("rlhf.worker.generations").register(meters.component("worker"));
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(() -> {
                generations.increment(10);
                Optional<Double> rate = prometheus.value("sum(rate(rlhf_worker_generations_total[5s]))");
                return rate.isPresent() && rate.get() > 0;
            });
            assertThat(prometheus.targets()).singleElement().satisfies(t -> {
                assertThat(t.path("health").asText()).as(t.toString()).isEqualTo("up");
                assertThat(t.path("lastError").asText()).isEmpty();
            });
            assertThat(prometheus.value("max(rlhf_worker_generations_total{component=\"worker\"})")).get()
                    .satisfies(v -> assertThat(v).isGreaterThanOrEqualTo(10));
        }
    }
}
