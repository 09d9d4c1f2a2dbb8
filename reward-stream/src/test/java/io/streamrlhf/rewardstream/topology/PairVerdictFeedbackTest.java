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
import io.streamrlhf.schemas.avro.PairVerdict;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.topics.DlqHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * PAIRWISE verdicts: PREFERRED (or none) makes its pair; TIE and BOTH_BAD are valid labels that make no pair and no
 * dead letter; a TIE that also names a preferred candidate is dead-lettered with the reason.
 */
class PairVerdictFeedbackTest {

    private static Feedback pairwise(String id, PairVerdict verdict, Integer preferred) {
        return Feedback.newBuilder().setFeedbackId(id).setPromptId("p1").setKind(FeedbackKind.PAIRWISE)
                .setGenerationIds(List.of("g-a", "g-b")).setPreferredIndex(preferred).setVerdict(verdict)
                .setAnnotatorId("rater").setSource(FeedbackSource.HUMAN).setCreatedAt(Fixtures.T0).build();
    }

    @Test
    void tiesAndBothBadMakeNoPairAndNoDeadLetter() {
        try (TopologyHarness h = new TopologyHarness(RewardEnsemble.builder().add(new LengthRule("rule-length", 1.0))
                .normalization(NormalizationSettings.OFF).build(), 100, Duration.ofHours(1), Duration.ofMinutes(10))) {
            Instant t = Fixtures.T0;
            h.generations.pipeInput("p1", Fixtures.generation("g-a", "p1", "answer a"), t);
            h.generations.pipeInput("p1", Fixtures.generation("g-b", "p1", "answer b"), t);

            h.feedback.pipeInput("p1", pairwise("tie", PairVerdict.TIE, null), t.plusSeconds(1));
            h.feedback.pipeInput("p1", pairwise("bad", PairVerdict.BOTH_BAD, null), t.plusSeconds(2));
            assertThat(h.preferences.isEmpty()).isTrue();
            assertThat(h.feedbackDlq.isEmpty()).isTrue();

            h.feedback.pipeInput("p1", pairwise("pref", PairVerdict.PREFERRED, 1), t.plusSeconds(3));
            h.feedback.pipeInput("p1", pairwise("old", null, 0), t.plusSeconds(4));
            assertThat(h.preferences.readValuesToList()).extracting(PreferencePair::getPairId,
                    PreferencePair::getChosenGenerationId).containsExactly(tuple("pref", "g-b"), tuple("old", "g-a"));

            h.feedback.pipeInput("p1", pairwise("odd", PairVerdict.TIE, 0), t.plusSeconds(5));
            assertThat(h.preferences.isEmpty()).isTrue();
            assertThat(h.feedbackDlq.readRecordsToList()).singleElement().satisfies(r -> assertThat(
                    new String(r.headers().lastHeader(DlqHeaders.ERROR_MESSAGE).value(), StandardCharsets.UTF_8))
                    .contains("verdict TIE and preferred_index 0"));
        }
    }
}
