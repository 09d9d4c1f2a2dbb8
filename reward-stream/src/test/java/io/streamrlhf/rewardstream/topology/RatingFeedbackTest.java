package io.streamrlhf.rewardstream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.rewardstream.Fixtures;
import io.streamrlhf.rewardstream.scoring.NormalizationSettings;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.rules.LengthRule;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackKind;
import io.streamrlhf.schemas.avro.FeedbackSource;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.avro.Role;
import io.streamrlhf.schemas.topics.DlqHeaders;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RATING feedback becomes preference pairs with the rating gap as strength; valid ratings never reach the DLQ. */
class RatingFeedbackTest {
    private static final Duration WINDOW = Duration.ofMinutes(10);

    private static Feedback rating(String id, String promptId, String generationId, double rating) {
        return Feedback.newBuilder().setFeedbackId(id).setPromptId(promptId).setKind(FeedbackKind.RATING)
                .setGenerationIds(List.of(generationId)).setRating(rating).setConfidence(0.8)
                .setAnnotatorId("rater-" + id).setSource(FeedbackSource.HUMAN).setCreatedAt(Fixtures.T0).build();
    }

    private static TopologyHarness harness() {
        return new TopologyHarness(RewardEnsemble.builder().add(new LengthRule("rule-length", 1.0))
                .normalization(NormalizationSettings.OFF).build(), 100, Duration.ofHours(1), WINDOW);
    }

    @Test
    void ratingsOfOnePromptPairUpWithTheGapAsStrength() {
        try (TopologyHarness h = harness()) {
            Instant t = Fixtures.T0;
            h.generations.pipeInput("p1", Fixtures.generation("g-a", "p1", "answer a"), t);
            h.generations.pipeInput("p1", Fixtures.generation("g-b", "p1", "answer b"), t);
            h.generations.pipeInput("p1", Fixtures.generation("g-c", "p1", "answer c"), t);

            h.feedback.pipeInput("p1", rating("r1", "p1", "g-a", 2), t.plusSeconds(10));
            assertThat(h.preferences.isEmpty()).as("one rating makes no pair yet").isTrue();
            h.feedback.pipeInput("p1", rating("r2", "p1", "g-b", 5), t.plusSeconds(20));
            h.feedback.pipeInput("p1", rating("r3", "p1", "g-c", 5), t.plusSeconds(30));
            h.feedback.pipeInput("p1", rating("r4", "p1", "g-a", 4), t.plusSeconds(40));

            List<PreferencePair> pairs = h.preferences.readValuesToList();
            assertThat(pairs).extracting(PreferencePair::getPairId, PreferencePair::getChosenGenerationId,
                    PreferencePair::getRejectedGenerationId, p -> p.getStrength().getMean()).containsExactly(
                    org.assertj.core.groups.Tuple.tuple("r2~r1", "g-b", "g-a", 3.0),
                    org.assertj.core.groups.Tuple.tuple("r3~r1", "g-c", "g-a", 3.0),
                    // r3 ties r2 (no pair); r4 re-rates g-a, so it pairs only with the other responses
                    org.assertj.core.groups.Tuple.tuple("r4~r2", "g-b", "g-a", 1.0),
                    org.assertj.core.groups.Tuple.tuple("r4~r3", "g-c", "g-a", 1.0));
            PreferencePair first = pairs.get(0);
            assertThat(first.getChosen()).isEqualTo("answer b");
            assertThat(first.getRejected()).isEqualTo("answer a");
            assertThat(first.getStrength().getEnsembleSize()).isZero();
            assertThat(first.getStrength().getStd()).isZero();
            assertThat(first.getConfidence()).isEqualTo(0.8);
            assertThat(first.getLabelSource()).isEqualTo(FeedbackSource.HUMAN);
            assertThat(first.getConversation()).extracting(ConversationTurn::getRole).containsExactly(Role.USER);
            assertThat(h.feedbackDlq.isEmpty()).isTrue();
        }
    }

    @Test
    void inlineRatingsPairByTextAndBadRatingsAreDeadLetteredWithTheReason() {
        try (TopologyHarness h = harness()) {
            Instant t = Fixtures.T0;
            Feedback low = Feedback.newBuilder(rating("i1", "p9", "x", 1)).setGenerationIds(List.of())
                    .setTexts(List.of("meh")).setConversation(List.of(new ConversationTurn(Role.USER, "q9"))).build();
            Feedback high = Feedback.newBuilder(low).setFeedbackId("i2").setTexts(List.of("great")).setRating(9.0)
                    .build();
            h.feedback.pipeInput("p9", low, t);
            h.feedback.pipeInput("p9", high, t);
            h.feedback.pipeInput("p9", high, t);
            assertThat(h.preferences.readValuesToList()).singleElement().satisfies(p -> {
                assertThat(p.getPairId()).isEqualTo("i2~i1");
                assertThat(p.getChosen()).isEqualTo("great");
                assertThat(p.getConversation().get(0).getContent()).isEqualTo("q9");
                assertThat(p.getStrength().getMean()).isEqualTo(8.0);
            });

            h.feedback.pipeInput("p9", Feedback.newBuilder(high).setFeedbackId("nan").setRating(Double.NaN).build(), t);
            h.feedback.pipeInput("p9", Feedback.newBuilder(high).setFeedbackId("two").setTexts(List.of("a", "b"))
                    .build(), t);
            h.feedback.pipeInput("p9", rating("ghost", "p9", "g-zzz", 3), t);
            // the ghost waits for g-zzz as long as it may
            h.driver.advanceWallClockTime(ScoringTopology.Settings.DEFAULT_PENDING_MAX_WAIT);
            assertThat(h.feedbackDlq.readRecordsToList()).extracting(r -> DlqHeaders.read(r.headers(),
                    DlqHeaders.ERROR_MESSAGE)).satisfiesExactly(
                    m -> assertThat(m).contains("nan").contains("without a finite rating"),
                    m -> assertThat(m).contains("two").contains("RATING of 2 candidates"),
                    m -> assertThat(m).contains("ghost").contains("unknown generation g-zzz"));
            assertThat(h.preferences.isEmpty()).isTrue();
        }
    }
}
