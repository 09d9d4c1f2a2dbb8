package io.streamrlhf.rewardstream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.ops.PrometheusText;
import io.streamrlhf.ops.ServiceMeters;
import io.streamrlhf.rewardstream.Fixtures;
import io.streamrlhf.rewardstream.app.JudgeServer;
import io.streamrlhf.rewardstream.scoring.NormalizationSettings;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.rewardstream.scoring.SourceFailurePolicy;
import io.streamrlhf.rewardstream.scoring.UnscorableException;
import io.streamrlhf.rewardstream.scoring.judge.ChatJudgeSource;
import io.streamrlhf.schemas.avro.ScoreSource;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.avro.SourceScore;
import io.streamrlhf.schemas.topics.DlqHeaders;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.test.TestRecord;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.junit.jupiter.api.Test;

/**
 * Generative judges against a real HTTP server speaking the chat-completions API, inside the scoring topology:
 * verdicts become scores; a failing or slow judge trips the circuit breaker and its records are dead-lettered or
 * scored by the rest of the ensemble, as configured, never lost.
 */
class ChatJudgeIT {
    private static final Duration HOUR = Duration.ofHours(1);

    private static RewardEnsemble ensemble(JudgeServer server, String options, SourceFailurePolicy policy) {
        return RewardEnsemble.builder()
                .add(RewardSources.create(RewardSpec.parse("rule:length")))
                .add(RewardSources.create(RewardSpec.parse("judge:" + server.endpoint() + ";name=judge" + options)))
                .onSourceFailure(policy).normalization(NormalizationSettings.OFF).build();
    }

    @Test
    void verdictsOfAPointwiseJudgeBecomeScores() throws Exception {
        try (JudgeServer server = new JudgeServer().verdict(u -> u.contains("great") ? "Score: 9" : "3");
             TopologyHarness h = new TopologyHarness(ensemble(server, ";model=judge-7b", SourceFailurePolicy.DLQ),
                     3, HOUR, HOUR)) {
            h.generations.pipeInput("p1", Fixtures.generation("g1", "p1", "a great answer"));
            h.generations.pipeInput("p2", Fixtures.generation("g2", "p2", "meh"));
            h.generations.pipeInput("p3", Fixtures.generation("g3", "p3", "great"));
            List<ScoredGeneration> out = h.scored.readValuesToList();
            assertThat(out).extracting(s -> s.getGeneration().getGenerationId()).containsExactly("g1", "g2", "g3");
            assertThat(out).extracting(s -> s.getScores().get(1).getRaw()).containsExactly(9.0, 3.0, 9.0);
            SourceScore judged = out.get(0).getScores().get(1);
            assertThat(judged.getSource()).isEqualTo(ScoreSource.GENERATIVE_JUDGE);
            assertThat(judged.getModel().getName()).isEqualTo("judge-7b");
            assertThat(out.get(0).getReward()).isEqualTo((14 + 9) / 2.0);
            assertThat(server.models).containsOnly("judge-7b");
            assertThat(server.userMessages).anyMatch(m -> m.contains("tell me about p2") && m.contains("meh"));
        }
    }

    @Test
    void pairwiseJudgeScoresAgainstTheReference() throws Exception {
        try (JudgeServer server = new JudgeServer().verdict(u -> u.contains("Response A:\nwin") ? "A" : "B");
             TopologyHarness h = new TopologyHarness(ensemble(server, ";mode=pairwise;reference=baseline text",
                     SourceFailurePolicy.DLQ), 2, HOUR, HOUR)) {
            h.generations.pipeInput("p1", Fixtures.generation("g1", "p1", "win"));
            h.generations.pipeInput("p2", Fixtures.generation("g2", "p2", "lose"));
            assertThat(h.scored.readValuesToList()).extracting(s -> s.getScores().get(1).getRaw())
                    .containsExactly(1.0, 0.0);
            assertThat(server.userMessages).allMatch(m -> m.contains("Response B:\nbaseline text"));
        }
    }

    @Test
    void failingJudgeTripsTheBreakerAndItsRecordsGoToTheDlq() throws Exception {
        try (JudgeServer server = new JudgeServer().status(503);
             TopologyHarness h = new TopologyHarness(ensemble(server,
                     ";retries=1;backoff_ms=10;breaker_failures=3;breaker_open_ms=60000;concurrency=1",
                     SourceFailurePolicy.DLQ), 2, HOUR, HOUR)) {
            h.generations.pipeInput("p1", Fixtures.generation("g1", "p1", "one"));
            h.generations.pipeInput("p2", Fixtures.generation("g2", "p2", "two"));
            List<TestRecord<byte[], byte[]>> dead = h.generationsDlq.readRecordsToList();
            assertThat(dead).hasSize(2);
            assertThat(DlqHeaders.read(dead.get(0).headers(), DlqHeaders.ERROR_CLASS))
                    .isEqualTo(UnscorableException.class.getName());
            assertThat(DlqHeaders.read(dead.get(0).headers(), DlqHeaders.ERROR_MESSAGE)).contains("judge")
                    .contains("unavailable");
            int afterFirst = server.requests.get();
            assertThat(afterFirst).as("tries with one retry until the breaker opened").isBetween(3, 4);

            long start = System.nanoTime();
            h.generations.pipeInput("p3", Fixtures.generation("g3", "p3", "three"));
            h.generations.pipeInput("p4", Fixtures.generation("g4", "p4", "four"));
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(h.generationsDlq.readRecordsToList()).hasSize(2);
            assertThat(server.requests.get()).as("an open breaker sends nothing").isEqualTo(afterFirst);
            assertThat(tookMs).as("and fails fast").isLessThan(1_000);
            assertThat(h.scored.isEmpty()).isTrue();
            assertThat(h.deadLetters.total("t.generations")).isEqualTo(4.0);
        }
    }

    @Test
    void slowJudgeIsSkippedAndTheRestOfTheEnsembleScoresEveryRecord() throws Exception {
        try (JudgeServer server = new JudgeServer().delayMs(1_500).verdict(u -> "8")) {
            RewardEnsemble ensemble = ensemble(server,
                    ";timeout_ms=200;retries=0;breaker_failures=2;breaker_open_ms=60000;concurrency=2",
                    SourceFailurePolicy.SKIP);
            ChatJudgeSource judge = (ChatJudgeSource) ensemble.source("judge");
            try (TopologyHarness h = new TopologyHarness(ensemble, 2, HOUR, HOUR)) {
                for (int i = 1; i <= 6; i++) {
                    h.generations.pipeInput("p" + i, Fixtures.generation("g" + i, "p" + i, "x".repeat(i)));
                }
                List<ScoredGeneration> out = h.scored.readValuesToList();
                assertThat(out).extracting(s -> s.getGeneration().getGenerationId())
                        .containsExactly("g1", "g2", "g3", "g4", "g5", "g6");
                assertThat(out).allSatisfy(s -> assertThat(s.getScores()).extracting(SourceScore::getScorer)
                        .containsExactly("rule-length"));
                assertThat(out).extracting(ScoredGeneration::getReward).containsExactly(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
                assertThat(h.generationsDlq.isEmpty()).isTrue();
                assertThat(judge.circuitState()).isEqualTo(CircuitBreaker.State.OPEN);
                assertThat(server.requests.get()).as("only the first batch reached the slow judge").isEqualTo(2);
            }
        }
    }

    @Test
    void theJudgesLatencyAndBreakerStateReachPrometheus() throws Exception {
        try (JudgeServer server = new JudgeServer().status(503);
             ServiceMeters meters = ServiceMeters.create("score")) {
            RewardEnsemble ensemble = ensemble(server,
                    ";retries=0;breaker_failures=2;breaker_open_ms=60000;concurrency=1", SourceFailurePolicy.DLQ);
            ChatJudgeSource judge = (ChatJudgeSource) ensemble.source("judge");
            judge.bindTo(meters.component("score"));
            Map<String, String> source = Map.of("source", "judge", "component", "score");
            assertThat(PrometheusText.parse(meters.scrape()).sum("rlhf_judge_breaker_state", source)).isZero();
            try (TopologyHarness h = new TopologyHarness(ensemble, 2, HOUR, HOUR)) {
                h.generations.pipeInput("p1", Fixtures.generation("g1", "p1", "one"));
                h.generations.pipeInput("p2", Fixtures.generation("g2", "p2", "two"));
                assertThat(h.generationsDlq.readRecordsToList()).hasSize(2);
            }
            PrometheusText.Scrape scrape = PrometheusText.parse(meters.scrape());
            assertThat(scrape.sum("rlhf_judge_latency_seconds_count", source))
                    .as("one timing per HTTP call the judge answered (with 503)").isEqualTo(server.requests.get())
                    .isPositive();
            assertThat(scrape.sum("rlhf_judge_breaker_state", source)).as("open").isEqualTo(1);
        }
    }
}
