package io.streamrlhf.producer.feedback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackKind;
import io.streamrlhf.schemas.avro.FeedbackSource;
import io.streamrlhf.schemas.avro.PairVerdict;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FeedbackParserTest {

    static final String A = "3f2b8c1e-0a4d-3c55-9e0f-12ab34cd56ef";
    static final String B = "0b7e1f2a-3c4d-3e5f-8a9b-0c1d2e3f4a5b";
    static final String C = "aaaaaaaa-bbbb-3ccc-8ddd-eeeeeeeeeeee";

    private final FeedbackParser parser =
            new FeedbackParser(Clock.fixed(Instant.parse("2025-01-02T03:04:05Z"), ZoneOffset.UTC));

    @Test
    void pairwiseByGenerationIds() {
        Feedback f = parser.parse("{\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"" + A + "\",\"" + B
                + "\"],\"preferred_index\":1,\"annotator_id\":\"alice\",\"confidence\":0.7,\"feedback_id\":\"f1\"}");
        assertThat(f.getKind()).isEqualTo(FeedbackKind.PAIRWISE);
        assertThat(f.getGenerationIds()).containsExactly(A, B);
        assertThat(f.getPreferredIndex()).isEqualTo(1);
        assertThat(f.getRating()).isNull();
        assertThat(f.getSource()).isEqualTo(FeedbackSource.HUMAN);
        assertThat(f.getConfidence()).isEqualTo(0.7);
        assertThat(f.getFeedbackId()).isEqualTo("f1");
        assertThat(f.getCreatedAt()).isEqualTo(Instant.parse("2025-01-02T03:04:05Z"));
    }

    @Test
    void ratingAndBestOfNInline() {
        Feedback r = parser.parse("{\"kind\":\"rating\",\"prompt_id\":\"p\",\"generation_ids\":[\"" + A
                + "\"],\"rating\":4.5,\"annotator_id\":\"judge-1\",\"source\":\"ai_judge\"}");
        assertThat(r.getRating()).isEqualTo(4.5);
        assertThat(r.getPreferredIndex()).isNull();
        assertThat(r.getSource()).isEqualTo(FeedbackSource.AI_JUDGE);
        assertThat(r.getFeedbackId()).hasSize(36);

        Feedback bon = parser.parse("{\"kind\":\"best_of_n\",\"prompt_id\":\"p\",\"conversation\":[{\"role\":\"user\","
                + "\"content\":\"hi\"}],\"texts\":[\"a\",\"b\",\"c\"],\"preferred_index\":2,\"annotator_id\":\"bob\"}");
        assertThat(bon.getKind()).isEqualTo(FeedbackKind.BEST_OF_N);
        assertThat(bon.getTexts()).containsExactly("a", "b", "c");
        assertThat(bon.getGenerationIds()).isEmpty();
        assertThat(bon.getConversation()).hasSize(1);
    }

    @Test
    void tiesAndBothBadArePairwiseVerdictsWithoutAPreferredIndex() {
        Feedback tie = parser.parse("{\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"" + A + "\",\""
                + B + "\"],\"verdict\":\"tie\",\"annotator_id\":\"alice\",\"confidence\":0.5,\"comment\":\"same\"}");
        assertThat(tie.getVerdict()).isEqualTo(PairVerdict.TIE);
        assertThat(tie.getPreferredIndex()).isNull();
        assertThat(tie.getComment()).isEqualTo("same");
        Feedback bad = parser.parse("{\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"" + A + "\",\""
                + B + "\"],\"verdict\":\"both-bad\",\"annotator_id\":\"alice\"}");
        assertThat(bad.getVerdict()).isEqualTo(PairVerdict.BOTH_BAD);
        Feedback preferred = parser.parse("{\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"" + A
                + "\",\"" + B + "\"],\"verdict\":\"preferred\",\"preferred_index\":0,\"annotator_id\":\"alice\"}");
        assertThat(preferred.getVerdict()).isEqualTo(PairVerdict.PREFERRED);
        assertThat(preferred.getPreferredIndex()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "malformed JSON | {\"kind\": | | malformed JSON",
        "not an object | [1] | | expected a JSON object",
        "missing kind | {\"prompt_id\":\"p\",\"generation_ids\":[\"A\",\"B\"],\"preferred_index\":0,\"annotator_id\":\"x\"} | kind | missing field 'kind'",
        "unknown kind | {\"kind\":\"ranking\",\"prompt_id\":\"p\"} | kind | unknown kind 'ranking'",
        "missing prompt | {\"kind\":\"pairwise\",\"generation_ids\":[\"A\",\"B\"],\"preferred_index\":0,\"annotator_id\":\"x\"} | prompt_id | missing field 'prompt_id'",
        "no candidates | {\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"preferred_index\":0,\"annotator_id\":\"x\"} | generation_ids | missing field 'generation_ids'",
        "bad id format | {\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"A\",\"gen-7\"],\"preferred_index\":0,\"annotator_id\":\"x\"} | generation_ids[1] | not a generation id",
        "three for pairwise | {\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"A\",\"B\",\"C\"],\"preferred_index\":0,\"annotator_id\":\"x\"} | generation_ids | exactly 2 candidates",
        "repeated id | {\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"A\",\"A\"],\"preferred_index\":0,\"annotator_id\":\"x\"} | generation_ids[1] | repeats",
        "missing preferred | {\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"A\",\"B\"],\"annotator_id\":\"x\"} | preferred_index | missing field 'preferred_index'",
        "preferred out of range | {\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"A\",\"B\"],\"preferred_index\":2,\"annotator_id\":\"x\"} | preferred_index | integer in 0..1",
        "rating without value | {\"kind\":\"rating\",\"prompt_id\":\"p\",\"generation_ids\":[\"A\"],\"annotator_id\":\"x\"} | rating | missing field 'rating'",
        "rating not a number | {\"kind\":\"rating\",\"prompt_id\":\"p\",\"generation_ids\":[\"A\"],\"rating\":\"good\",\"annotator_id\":\"x\"} | rating | finite number",
        "missing annotator | {\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"A\",\"B\"],\"preferred_index\":0} | annotator_id | missing field 'annotator_id'",
        "confidence above 1 | {\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"A\",\"B\"],\"preferred_index\":0,\"annotator_id\":\"x\",\"confidence\":1.5} | confidence | [0, 1]",
        "inline without prompt | {\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"texts\":[\"a\",\"b\"],\"preferred_index\":0,\"annotator_id\":\"x\"} | conversation | missing field 'conversation'",
        "unknown field | {\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"prefered_index\":0} | prefered_index | unknown field 'prefered_index'",
        "tie with a preference | {\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"A\",\"B\"],\"verdict\":\"tie\",\"preferred_index\":0,\"annotator_id\":\"x\"} | preferred_index | prefers neither candidate",
        "unknown verdict | {\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"A\",\"B\"],\"verdict\":\"meh\",\"annotator_id\":\"x\"} | verdict | unknown verdict 'meh'",
        "verdict on a rating | {\"kind\":\"rating\",\"prompt_id\":\"p\",\"generation_ids\":[\"A\"],\"rating\":3,\"verdict\":\"tie\",\"annotator_id\":\"x\"} | verdict | pairwise only",
        "preferred verdict without index | {\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"A\",\"B\"],\"verdict\":\"preferred\",\"annotator_id\":\"x\"} | preferred_index | missing field 'preferred_index'",
        "unknown source | {\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"A\",\"B\"],\"preferred_index\":0,\"annotator_id\":\"x\",\"source\":\"robot\"} | source | unknown source 'robot'",
    })
    void refusesEveryProblemNamingTheField(String name, String json, String field, String message) {
        String body = json.replace("\"A\"", "\"" + A + "\"").replace("\"B\"", "\"" + B + "\"")
                .replace("\"C\"", "\"" + C + "\"");
        assertThatThrownBy(() -> parser.parse(body)).isInstanceOf(FeedbackValidationException.class)
                .hasMessageContaining(message)
                .satisfies(e -> assertThat(((FeedbackValidationException) e).field()).isEqualTo(field));
    }

    @Test
    void jsonBeyondTheParsersNestingLimitIsAValidationErrorNotACrash() {
        // The limit's error carries no location; reading it used to throw a NullPointerException.
        String deep = "{\"kind\":" + "[".repeat(5_000) + "]".repeat(5_000) + "}";
        assertThatThrownBy(() -> parser.parse(deep)).isInstanceOf(FeedbackValidationException.class)
                .hasMessageContaining("malformed JSON").hasMessageContaining("nesting depth");
    }

    @Test
    void aLoneSurrogateEscapeIsRefusedNamingTheFieldSinceAvroWouldStoreItAsAQuestionMark() {
        // Found by rlhf bench fuzz: a feedback_id holding the JSON escape of a lone surrogate was answered 202 with
        // that id, and stored as "?".
        String label = "{\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"" + A + "\",\"" + B
                + "\"],\"preferred_index\":0,\"annotator_id\":\"x\",\"feedback_id\":\"id-\\ud800\"}";
        assertThatThrownBy(() -> parser.parse(label)).isInstanceOf(FeedbackValidationException.class)
                .hasMessageContaining("unpaired surrogate")
                .satisfies(e -> assertThat(((FeedbackValidationException) e).field()).isEqualTo("feedback_id"));
        String inline = "{\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"conversation\":[{\"role\":\"user\","
                + "\"content\":\"hi\"}],\"texts\":[\"a\",\"b\\udc00\"],\"preferred_index\":0,\"annotator_id\":\"x\"}";
        assertThatThrownBy(() -> parser.parse(inline)).isInstanceOf(FeedbackValidationException.class)
                .satisfies(e -> assertThat(((FeedbackValidationException) e).field()).isEqualTo("texts[1]"));
        // A proper pair (an emoji) is text.
        assertThat(parser.parse(label.replace("\\ud800", "\\ud83d\\ude00")).getFeedbackId())
                .isEqualTo("id-\uD83D\uDE00");
    }
}
