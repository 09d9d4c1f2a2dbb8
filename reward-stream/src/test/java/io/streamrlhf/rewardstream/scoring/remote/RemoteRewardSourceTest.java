package io.streamrlhf.rewardstream.scoring.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.rewardstream.scoring.SourceUnavailableException;
import io.streamrlhf.schemas.avro.ScoreSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The {@code http:} reward source against a real local HTTP server that is slow, fails and rate-limits. */
class RemoteRewardSourceTest {
    private RewardServer server;

    @BeforeEach
    void start() throws Exception {
        server = new RewardServer();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static List<ScoringInput> inputs(int n) {
        List<ScoringInput> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new ScoringInput("g" + i, "prompt " + i, "x".repeat(i + 1), null, null, "cat",
                    List.of("ref" + i), null));
        }
        return out;
    }

    private RemoteRewardSource source(String options) {
        return (RemoteRewardSource) RewardSources.create(RewardSpec.parse(server.url() + options));
    }

    @Test
    void scoresInBatchesInOrderAndSendsWhatTheServerNeeds() {
        try (RemoteRewardSource source = source(";batch=4;model=len-rm;version=3")) {
            double[] scores = source.score(inputs(10));
            assertThat(scores).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
            assertThat(server.batchSizes).containsExactlyInAnyOrder(4, 4, 2);
            assertThat(source.kind()).isEqualTo(ScoreSource.NEURAL_RM);
            assertThat(source.modelRef().getName()).isEqualTo("len-rm");
            assertThat(source.modelRef().getVersion()).isEqualTo(3L);
            var item = server.bodies.stream().flatMap(b -> {
                List<com.fasterxml.jackson.databind.JsonNode> items = new ArrayList<>();
                b.path("items").forEach(items::add);
                return items.stream();
            }).filter(i -> i.path("id").asText().equals("g2")).findFirst().orElseThrow();
            assertThat(item.path("prompt").asText()).isEqualTo("prompt 2");
            assertThat(item.path("response").asText()).isEqualTo("xxx");
            assertThat(item.path("references").get(0).asText()).isEqualTo("ref2");
            assertThat(item.path("category").asText()).isEqualTo("cat");
        }
    }

    @Test
    void aNullScoreIsNaNForThatInputOnly() {
        try (RemoteRewardSource source = source("")) {
            List<ScoringInput> batch = List.of(new ScoringInput("a", "p", "abc", null, null, null),
                    new ScoringInput("b", "p", "unscorable", null, null, null));
            double[] scores = source.score(batch);
            assertThat(scores[0]).isEqualTo(3.0);
            assertThat(scores[1]).isNaN();
        }
    }

    @Test
    void retriesServerErrorsAndHonoursRetryAfter() {
        server.failNext.set(2);
        server.failStatus = 429;
        server.retryAfter = "1";
        try (RemoteRewardSource source = source(";retries=3;backoff_ms=10")) {
            long start = System.nanoTime();
            assertThat(source.score(inputs(3))).containsExactly(1, 2, 3);
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(server.requests.get()).isEqualTo(3);
            assertThat(waitedMs).as("two waits of Retry-After: 1 s").isGreaterThanOrEqualTo(1900);
        }
    }

    @Test
    void aClientErrorIsNotRetried() {
        server.failNext.set(1);
        server.failStatus = 400;
        try (RemoteRewardSource source = source(";retries=3;backoff_ms=1")) {
            assertThatThrownBy(() -> source.score(inputs(2))).isInstanceOf(SourceUnavailableException.class)
                    .hasMessageContaining("HTTP 400");
            assertThat(server.requests.get()).isEqualTo(1);
        }
    }

    @Test
    void aSlowServerTimesOutAndTheBreakerThenFailsFast() {
        server.delayMillis = 1_500;
        try (RemoteRewardSource source = source(";timeout_ms=200;retries=1;backoff_ms=1;breaker_failures=2"
                + ";breaker_open_ms=60000")) {
            assertThatThrownBy(() -> source.score(inputs(1))).isInstanceOf(SourceUnavailableException.class)
                    .hasMessageContaining("timed out");
            assertThat(source.circuitState()).isEqualTo(CircuitBreaker.State.OPEN);
            int sent = source.requestsSent();
            long start = System.nanoTime();
            assertThatThrownBy(() -> source.score(inputs(1))).isInstanceOf(SourceUnavailableException.class)
                    .hasMessageContaining("circuit breaker is open");
            assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(150);
            assertThat(source.requestsSent()).isEqualTo(sent);
        }
    }

    @Test
    void aReplyOfTheWrongShapeFailsTheBatchWithoutRetrying() {
        server.malformed = true;
        try (RemoteRewardSource source = source(";retries=3;backoff_ms=1")) {
            assertThatThrownBy(() -> source.score(inputs(2))).isInstanceOf(SourceUnavailableException.class)
                    .hasMessageContaining("\"scores\" array of 2 numbers");
            assertThat(server.requests.get()).isEqualTo(1);
        }
    }

    @Test
    void theRateLimitSpacesRequestsInsteadOfFailingThem() {
        try (RemoteRewardSource source = source(";batch=1;concurrency=4;rate=10")) {
            long start = System.nanoTime();
            assertThat(source.score(inputs(8))).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(server.requests.get()).isEqualTo(8);
            assertThat(tookMs).as("8 requests at 10 a second").isGreaterThanOrEqualTo(600);
        }
    }

    @Test
    void specsAreCheckedNamingTheProblem() {
        assertThatThrownBy(() -> RewardSources.create(RewardSpec.parse(server.url() + ";batch=0")))
                .hasMessageContaining("batch must be >= 1");
        assertThatThrownBy(() -> RewardSources.create(RewardSpec.parse(server.url() + ";temperature=0")))
                .hasMessageContaining("unknown option 'temperature'");
        RewardSource viaKind = RewardSources.create(RewardSpec.parse("http:" + server.url()));
        assertThat(((RemoteRewardSource) viaKind).settings().endpoint().toString()).isEqualTo(server.url());
        viaKind.close();
    }
}
