package io.streamrlhf.rewardstream.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.streamrlhf.rewardstream.Fixtures;
import io.streamrlhf.rewardstream.scoring.NormalizationSettings;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.rules.LengthRule;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackKind;
import io.streamrlhf.schemas.avro.FeedbackSource;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.topics.DlqHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

/**
 * Labels that come before the generations they name wait in the pending store: they pair as soon as the generations
 * arrive, once each however often they are sent, and are dead-lettered, saying they waited, only when the wait
 * (driven here by the driver's wall clock) runs out or the task's waiting room is full.
 */
class PendingFeedbackTest {
    private static final Duration WINDOW = Duration.ofMinutes(10);
    private static final Duration WAIT = Duration.ofMinutes(10);

    private static TopologyHarness harness(Duration wait, int maxLabels) {
        return new TopologyHarness(RewardEnsemble.builder().add(new LengthRule("rule-length", 1.0))
                .normalization(NormalizationSettings.OFF).build(), 100, Duration.ofHours(1), WINDOW, false, null,
                wait, maxLabels);
    }

    private static Feedback rating(String id, String generationId, double rating) {
        return Feedback.newBuilder().setFeedbackId(id).setPromptId("p1").setKind(FeedbackKind.RATING)
                .setGenerationIds(List.of(generationId)).setRating(rating).setAnnotatorId("rater-" + id)
                .setSource(FeedbackSource.HUMAN).setCreatedAt(Fixtures.T0).build();
    }

    private static String header(TestRecord<byte[], byte[]> r, String key) {
        return DlqHeaders.read(r.headers(), key);
    }

    @Test
    void labelsBeforeTheirGenerationsPairOnceWhenTheyArrive() {
        try (TopologyHarness h = harness(WAIT, 100)) {
            Instant t = Fixtures.T0;
            Feedback f1 = Fixtures.pairwise("f1", "p1", List.of("g-a", "g-b"), 1);
            h.feedback.pipeInput("p1", f1, t.plusSeconds(60));
            h.feedback.pipeInput("p1", f1, t.plusSeconds(61)); // re-sent while it waits
            h.feedback.pipeInput("p1", rating("r1", "g-a", 2), t.plusSeconds(62));
            h.driver.advanceWallClockTime(WAIT.minusMinutes(1));
            assertThat(h.preferences.isEmpty()).isTrue();
            assertThat(h.feedbackDlq.isEmpty()).isTrue();

            h.generations.pipeInput("p1", Fixtures.generation("g-a", "p1", "first answer"), t);
            assertThat(h.preferences.isEmpty()).as("f1 still waits for g-b; r1 is the prompt's first rating").isTrue();
            h.generations.pipeInput("p1", Fixtures.generation("g-b", "p1", "second answer"), t.plusSeconds(1));
            List<TestRecord<String, PreferencePair>> out = h.preferences.readRecordsToList();
            assertThat(out).singleElement().satisfies(r -> {
                assertThat(r.key()).isEqualTo("p1");
                assertThat(r.timestamp()).as("the label's own timestamp").isEqualTo(t.plusSeconds(60).toEpochMilli());
                assertThat(r.value().getPairId()).isEqualTo("f1");
                assertThat(r.value().getChosen()).isEqualTo("second answer");
                assertThat(r.value().getRejectedGenerationId()).isEqualTo("g-a");
                assertThat(r.value().getConversation().get(0).getContent()).isEqualTo("tell me about p1");
            });

            h.feedback.pipeInput("p1", f1, t.plusSeconds(120)); // re-sent after it made its pair
            h.driver.advanceWallClockTime(WAIT); // past every wait: nothing is left to give up on
            h.feedback.pipeInput("p1", rating("r2", "g-b", 5), t.plusSeconds(130));
            assertThat(h.preferences.readValuesToList()).extracting(PreferencePair::getPairId,
                    PreferencePair::getChosenGenerationId).containsExactly(tuple("r2~r1", "g-b"));
            assertThat(h.feedbackDlq.isEmpty()).isTrue();
            assertThat(h.deadLetters.total("t.feedback")).isZero();
        }
    }

    @Test
    void aLabelWhoseGenerationNeverComesIsDeadLetteredAfterTheWaitWithItsOwnBytesAndPlace() {
        try (TopologyHarness h = harness(WAIT, 100)) {
            Instant t = Fixtures.T0;
            h.generations.pipeInput("p1", Fixtures.generation("g-a", "p1", "first"), t);
            RecordHeaders traced = new RecordHeaders();
            traced.add("trace", "abc".getBytes(StandardCharsets.UTF_8));
            h.feedback.pipeInput(new TestRecord<>("p1", Fixtures.pairwise("ghost", "p1", List.of("g-a", "g-zzz"),
                    0), traced, t.plusSeconds(5)));
            h.driver.advanceWallClockTime(WAIT.minusSeconds(1));
            assertThat(h.feedbackDlq.isEmpty()).as("still within the wait").isTrue();

            h.driver.advanceWallClockTime(Duration.ofSeconds(1));
            TestRecord<byte[], byte[]> dead = h.feedbackDlq.readRecord();
            assertThat(new String(dead.key(), StandardCharsets.UTF_8)).isEqualTo("p1");
            assertThat(h.topics.feedback().valueDeserializer().deserialize("t.feedback", dead.value())
                    .getFeedbackId()).isEqualTo("ghost");
            assertThat(header(dead, DlqHeaders.SOURCE_TOPIC)).isEqualTo("t.feedback");
            assertThat(header(dead, DlqHeaders.SOURCE_PARTITION)).isEqualTo("0");
            assertThat(header(dead, DlqHeaders.SOURCE_OFFSET)).isEqualTo("0");
            assertThat(header(dead, DlqHeaders.COMPONENT)).isEqualTo(DeadLetters.COMPONENT);
            assertThat(header(dead, DlqHeaders.ERROR_CLASS)).isEqualTo(FeedbackRejectedException.class.getName());
            assertThat(header(dead, DlqHeaders.ERROR_MESSAGE)).contains("ghost names unknown generation(s) [g-zzz]")
                    .contains("waited 600.0 s").contains("feedback.pending.max.wait.ms");
            assertThat(header(dead, "trace")).isEqualTo("abc");
            assertThat(dead.timestamp()).isEqualTo(t.plusSeconds(5).toEpochMilli());
            assertThat(h.feedbackDlq.isEmpty()).isTrue();
            assertThat(h.deadLetters.total("t.feedback")).isEqualTo(1.0);

            h.generations.pipeInput("p1", Fixtures.generation("g-zzz", "p1", "too late"), t);
            h.driver.advanceWallClockTime(WAIT);
            assertThat(h.preferences.isEmpty()).as("a dead-lettered label is gone").isTrue();
            assertThat(h.feedbackDlq.isEmpty()).isTrue();
        }
    }

    @Test
    void aWaitingLabelWhoseGenerationArrivesOutsideItsJoinWindowIsDeadLetteredThen() {
        try (TopologyHarness h = harness(WAIT, 100)) {
            Instant t = Fixtures.T0;
            h.feedback.pipeInput("p1", Fixtures.pairwise("f1", "p1", List.of("g-a", "g-b"), 0),
                    t.plus(WINDOW).plusSeconds(30));
            h.generations.pipeInput("p1", Fixtures.generation("g-a", "p1", "in time"), t.plusSeconds(60));
            assertThat(h.feedbackDlq.isEmpty()).isTrue();
            h.generations.pipeInput("p1", Fixtures.generation("g-b", "p1", "too old"), t);
            assertThat(header(h.feedbackDlq.readRecord(), DlqHeaders.ERROR_MESSAGE))
                    .contains("f1 names unknown generation(s) [g-b]").contains("came outside the join window");
            assertThat(h.preferences.isEmpty()).isTrue();
        }
    }

    @Test
    void whenTheTaskHoldsItsMostWaitingLabelsTheNextIsDeadLetteredAtOnce() {
        try (TopologyHarness h = harness(WAIT, 2)) {
            Instant t = Fixtures.T0;
            for (int i = 0; i < 3; i++) {
                h.feedback.pipeInput("p1", Fixtures.pairwise("f" + i, "p1", List.of("g-" + i, "g-x"), 0),
                        t.plusSeconds(i));
            }
            TestRecord<byte[], byte[]> dead = h.feedbackDlq.readRecord();
            assertThat(header(dead, DlqHeaders.SOURCE_OFFSET)).isEqualTo("2");
            assertThat(header(dead, DlqHeaders.ERROR_MESSAGE)).contains("f2 names unknown generation(s) [g-2, g-x]")
                    .contains("already holds 2 waiting labels (feedback.pending.max.labels)");

            h.generations.pipeInput("p1", Fixtures.generation("g-x", "p1", "shared"), t);
            h.generations.pipeInput("p1", Fixtures.generation("g-0", "p1", "zero"), t);
            assertThat(h.preferences.readValuesToList()).extracting(PreferencePair::getPairId).containsExactly("f0");
            h.feedback.pipeInput("p1", Fixtures.pairwise("f3", "p1", List.of("g-3", "g-x"), 0), t.plusSeconds(3));
            assertThat(h.feedbackDlq.isEmpty()).as("f0's place is free again").isTrue();
            h.generations.pipeInput("p1", Fixtures.generation("g-3", "p1", "three"), t);
            assertThat(h.preferences.readValuesToList()).extracting(PreferencePair::getPairId).containsExactly("f3");
        }
    }

    @Test
    void withNoWaitAnUnknownGenerationIsDeadLetteredAtOnce() {
        try (TopologyHarness h = harness(Duration.ZERO, 100)) {
            h.feedback.pipeInput("p1", Fixtures.pairwise("ghost", "p1", List.of("g-a", "g-b"), 0), Fixtures.T0);
            assertThat(header(h.feedbackDlq.readRecord(), DlqHeaders.ERROR_MESSAGE))
                    .contains("ghost names unknown generation(s) [g-a, g-b]").doesNotContain("waited");
        }
    }
}
