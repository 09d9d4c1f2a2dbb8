package io.streamrlhf.producer.feedback;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.ops.MetricsEndpoint;
import io.streamrlhf.ops.PrometheusText;
import io.streamrlhf.ops.ServiceMeters;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackSource;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * {@code feedback serve}'s Prometheus endpoint as {@code --metrics-port} wires it: the server's meters on the
 * process's registry under {@code component="feedback"}, a strict text scrape whose counters move with the labels
 * accepted and refused.
 */
class FeedbackMetricsTest {
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void acceptedAndRefusedLabelsMoveTheirCountersInTheScrape() throws Exception {
        List<Feedback> written = new CopyOnWriteArrayList<>();
        try (ServiceMeters service = ServiceMeters.create("feedback");
             FeedbackServer server = new FeedbackServer(FeedbackServer.Options.defaults().bind("127.0.0.1", 0)
                     .withTokens(FeedbackTokens.of(Map.of(FeedbackServerTest.TOKEN,
                             new FeedbackTokens.Annotator("alice", FeedbackSource.HUMAN)))).withLimits(1024, 16),
                     written::add, new RecentGenerations(10, 4), service.component("feedback")).start();
             MetricsEndpoint endpoint = MetricsEndpoint.start("127.0.0.1", 0, service, new HealthChecks())) {
            URI api = URI.create("http://127.0.0.1:" + server.port() + "/api/feedback");
            assertThat(post(api, FeedbackServerTest.GOOD).statusCode()).isEqualTo(202);
            assertThat(post(api, FeedbackServerTest.GOOD.replace("\"preferred_index\":0,", "")).statusCode())
                    .isEqualTo(400);
            assertThat(post(api, FeedbackServerTest.GOOD.replace("\"p\"", "\"p2\"")).statusCode()).isEqualTo(202);

            HttpResponse<String> scrape = http.send(HttpRequest.newBuilder(endpoint.metricsUrl()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(scrape.statusCode()).isEqualTo(200);
            assertThat(scrape.headers().firstValue("Content-Type")).contains(MetricsEndpoint.CONTENT_TYPE);
            PrometheusText.Scrape parsed = PrometheusText.parse(scrape.body());
            Map<String, String> feedback = Map.of(ServiceMeters.COMPONENT, "feedback");
            assertThat(parsed.sum("rlhf_feedback_accepted_total", feedback)).isEqualTo(2.0);
            assertThat(parsed.sum("rlhf_feedback_refused_total", feedback)).isEqualTo(1.0);
            assertThat(parsed.types()).hasEntrySatisfying(
                    parsed.types().containsKey("rlhf_feedback_accepted_total") ? "rlhf_feedback_accepted_total"
                            : "rlhf_feedback_accepted", type -> assertThat(type).isEqualTo("counter"));
            assertThat(parsed.names()).contains("jvm_memory_used_bytes", "process_uptime_seconds");
            assertThat(written).hasSize(2);
        }
    }

    private HttpResponse<String> post(URI api, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(api).header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + FeedbackServerTest.TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
