package io.streamrlhf.producer.feedback;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackSource;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The HTTP API's refusals: each bad request gets a 4xx naming the problem, and nothing reaches the sink. */
class FeedbackServerTest {

    static final String TOKEN = "alice-token-0123456789abcdef";
    static final String A = FeedbackParserTest.A;
    static final String B = FeedbackParserTest.B;
    static final String GOOD = "{\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"" + A + "\",\"" + B
            + "\"],\"preferred_index\":0,\"annotator_id\":\"alice\"}";

    private final List<Feedback> written = new CopyOnWriteArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();
    private FeedbackServer server;

    @BeforeEach
    void start() throws Exception {
        server = new FeedbackServer(FeedbackServer.Options.defaults().bind("127.0.0.1", 0)
                .withTokens(FeedbackTokens.of(Map.of(TOKEN, new FeedbackTokens.Annotator("alice", FeedbackSource.HUMAN))))
                .withLimits(1024, 16), written::add, new RecentGenerations(10, 4), new SimpleMeterRegistry()).start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void acceptsAValidLabel() throws Exception {
        HttpResponse<String> r = post(GOOD, "application/json", "Bearer " + TOKEN);
        assertThat(r.statusCode()).isEqualTo(202);
        JsonNode body = json.readTree(r.body());
        assertThat(body.path("status").asText()).isEqualTo("accepted");
        assertThat(written).singleElement().satisfies(f -> {
            assertThat(f.getFeedbackId()).isEqualTo(body.path("feedback_id").asText());
            assertThat(f.getSource()).isEqualTo(FeedbackSource.HUMAN);
            assertThat(f.getGenerationIds()).containsExactly(A, B);
        });
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "malformed JSON      | {\"kind\": \"pairwise\",        | 400 | malformed JSON",
        "missing field       | {\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"A\",\"B\"],\"annotator_id\":\"a\"} | 400 | missing field 'preferred_index'",
        "unknown id format   | {\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"A\",\"generation-2\"],\"preferred_index\":0,\"annotator_id\":\"a\"} | 400 | not a generation id",
        "wrong candidates    | {\"kind\":\"rating\",\"prompt_id\":\"p\",\"generation_ids\":[\"A\",\"B\"],\"rating\":1,\"annotator_id\":\"a\"} | 400 | exactly 1 candidate",
    })
    void refusesInvalidBodies(String name, String body, int status, String message) throws Exception {
        // The token is alice's: a body naming annotator "a" would be refused before its content is checked.
        HttpResponse<String> r = post(body.replace("\"A\"", "\"" + A + "\"").replace("\"B\"", "\"" + B + "\"")
                        .replace("\"annotator_id\":\"a\"", "\"annotator_id\":\"alice\""),
                "application/json", "Bearer " + TOKEN);
        assertThat(r.statusCode()).isEqualTo(status);
        assertThat(json.readTree(r.body()).path("error").asText()).contains(message);
        assertThat(written).isEmpty();
    }

    @Test
    void refusesAnOversizedBody() throws Exception {
        String big = GOOD.replace("\"alice\"", "\"alice\",\"comment\":\"" + "x".repeat(2000) + "\"");
        HttpResponse<String> r = post(big, "application/json", "Bearer " + TOKEN);
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(json.readTree(r.body()).path("error").asText()).contains("exceeds the limit of 1024 bytes");
        assertThat(written).isEmpty();
    }

    @Test
    void refusesMissingAndWrongTokens() throws Exception {
        HttpResponse<String> missing = post(GOOD, "application/json", null);
        assertThat(missing.statusCode()).isEqualTo(401);
        assertThat(missing.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v)
                .startsWith("Bearer"));
        assertThat(json.readTree(missing.body()).path("error").asText()).contains("missing bearer token");
        HttpResponse<String> wrong = post(GOOD, "application/json", "Bearer nope");
        assertThat(wrong.statusCode()).isEqualTo(403);
        assertThat(json.readTree(wrong.body()).path("error").asText()).contains("not valid");
        assertThat(written).isEmpty();
    }

    @Test
    void refusesOtherContentTypesMethodsAndRoutes() throws Exception {
        HttpResponse<String> text = post(GOOD, "text/plain", "Bearer " + TOKEN);
        assertThat(text.statusCode()).isEqualTo(415);
        assertThat(json.readTree(text.body()).path("error").asText()).contains("application/json");
        HttpResponse<String> get = http.send(HttpRequest.newBuilder(uri("/api/feedback"))
                .header("Authorization", "Bearer " + TOKEN).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(get.statusCode()).isEqualTo(405);
        HttpResponse<String> none = http.send(HttpRequest.newBuilder(uri("/nowhere")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(none.statusCode()).isEqualTo(404);
        assertThat(written).isEmpty();
    }

    @Test
    void servesThePageAndSaysWhenThereIsNothingToRate() throws Exception {
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(uri("/rate")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("id=\"response-0\"").contains("/api/feedback");
        HttpResponse<String> pair = http.send(HttpRequest.newBuilder(uri("/api/pair"))
                .header("Authorization", "Bearer " + TOKEN).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(pair.statusCode()).isEqualTo(404);
        assertThat(json.readTree(pair.body()).path("error").asText()).contains("no prompt with two generations");
    }

    private HttpResponse<String> post(String body, String type, String auth) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri("/api/feedback")).header("Content-Type", type)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (auth != null) {
            b.header("Authorization", auth);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }
}
