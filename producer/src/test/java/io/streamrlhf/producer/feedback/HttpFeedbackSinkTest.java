package io.streamrlhf.producer.feedback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackKind;
import io.streamrlhf.schemas.avro.FeedbackSource;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Labels posted through a real {@link FeedbackServer} arrive at its sink as they were made. */
class HttpFeedbackSinkTest {

    private final List<Feedback> stored = new CopyOnWriteArrayList<>();
    private FeedbackServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static Feedback simulated(String id, int preferred) {
        return Feedback.newBuilder().setFeedbackId(id).setPromptId("p-7").setKind(FeedbackKind.PAIRWISE)
                .setGenerationIds(List.of(FeedbackParserTest.A, FeedbackParserTest.B)).setConversation(List.of())
                .setTexts(List.of()).setRating(null).setPreferredIndex(preferred).setConfidence(0.75)
                .setAnnotatorId("sim-seed6").setSource(FeedbackSource.SIMULATED).setComment("gold 0.400 vs 0.100")
                .setCreatedAt(Instant.parse("2026-01-01T00:00:00Z")).build();
    }

    @Test
    void aLoopbackServerWithoutTokensStoresTheRatersLabelsUnderTheirOwnIds() throws Exception {
        server = new FeedbackServer(FeedbackServer.Options.defaults().bind("127.0.0.1", 0), stored::add,
                new RecentGenerations(10, 4), new SimpleMeterRegistry()).start();
        HttpFeedbackSink sink = new HttpFeedbackSink(URI.create("http://127.0.0.1:" + server.port()), null,
                Duration.ofSeconds(5));

        sink.writeAll(List.of(simulated("f-1", 0), simulated("f-2", 1)));

        assertThat(stored).extracting(Feedback::getFeedbackId).containsExactly("f-1", "f-2");
        Feedback first = stored.get(0);
        assertThat(first.getGenerationIds()).containsExactly(FeedbackParserTest.A, FeedbackParserTest.B);
        assertThat(first.getPreferredIndex()).isZero();
        assertThat(stored.get(1).getPreferredIndex()).isEqualTo(1);
        assertThat(first.getSource()).isEqualTo(FeedbackSource.SIMULATED);
        assertThat(first.getAnnotatorId()).isEqualTo("sim-seed6");
        assertThat(first.getConfidence()).isEqualTo(0.75);
        assertThat(first.getComment()).isEqualTo("gold 0.400 vs 0.100");
        assertThat(first.getPromptId()).isEqualTo("p-7");
    }

    @Test
    void withTokensTheLabelCarriesTheTokensAnnotatorAndARefusalThrows() throws Exception {
        String token = "rater-token-0123456789abcdef";
        server = new FeedbackServer(FeedbackServer.Options.defaults().bind("127.0.0.1", 0).withTokens(
                FeedbackTokens.of(Map.of(token, new FeedbackTokens.Annotator("sim-seed6", FeedbackSource.SIMULATED)))),
                stored::add, new RecentGenerations(10, 4), new SimpleMeterRegistry()).start();
        URI url = URI.create("http://127.0.0.1:" + server.port());

        new HttpFeedbackSink(url, token, Duration.ofSeconds(5)).write(simulated("f-1", 0));
        assertThat(stored).extracting(Feedback::getFeedbackId).containsExactly("f-1");

        assertThatThrownBy(() -> new HttpFeedbackSink(url, null, Duration.ofSeconds(5)).write(simulated("f-2", 0)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("answered 401")
                .hasMessageContaining("f-2");
        assertThat(stored).hasSize(1);
    }

    @Test
    void aServerThatIsDownIsAFailureNamingTheLabel() {
        HttpFeedbackSink sink = new HttpFeedbackSink(URI.create("http://127.0.0.1:1"), null, Duration.ofSeconds(2));
        assertThatThrownBy(() -> sink.write(simulated("f-9", 0))).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("f-9").hasMessageContaining("/api/feedback").hasMessageNotContaining("null");
    }

    @Test
    void refusesAUrlThatIsNoHttpUrl() {
        assertThatThrownBy(() -> new HttpFeedbackSink(URI.create("kafka:feedback"), null, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("kafka:feedback");
    }
}
