package io.streamrlhf.models.world;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class SentimentTaskTest {

    private final Vocabulary vocabulary = Vocabulary.standard();

    @Test
    void theAnswerIsTheSignOfPositiveMinusNegativeListedWords() {
        assertThat(SentimentTask.answerFor(new int[] {1, 1, -1})).isEqualTo("good");
        assertThat(SentimentTask.answerFor(new int[] {1, 0, 0})).isEqualTo("good");
        assertThat(SentimentTask.answerFor(new int[] {-1, 0, 1})).isEqualTo("plain");
        assertThat(SentimentTask.answerFor(new int[] {0, 0, 0})).isEqualTo("plain");
        assertThat(SentimentTask.answerFor(new int[] {-1, -1, 1})).isEqualTo("bad");
    }

    @Test
    void everyItemListsThreeLexiconAdjectivesAndItsAnswerFollowsFromTheirPolarities() {
        Map<String, Integer> answers = new HashMap<>();
        for (SentimentTask.Item item : SentimentTask.standard(3).next(3000)) {
            assertThat(item.prompt().words()).startsWith("tell", "me", "about", ":").endsWith(":");
            assertThat(item.listed()).hasSize(SentimentTask.LISTED).doesNotContain("good", "bad", "plain");
            int[] polarities = new int[SentimentTask.LISTED];
            for (int i = 0; i < polarities.length; i++) {
                Word w = vocabulary.lookup(item.listed().get(i)).orElseThrow();
                assertThat(w.wordClass()).isEqualTo(WordClass.ADJECTIVE);
                polarities[i] = w.polarity();
            }
            assertThat(item.answer()).isEqualTo(SentimentTask.answerFor(polarities));
            assertThat(vocabulary.contains(item.answer())).isTrue();
            item.prompt().words().forEach(word -> assertThat(vocabulary.contains(word)).as(word).isTrue());
            answers.merge(item.answer(), 1, Integer::sum);
        }
        // Each polarity 1/3: P(plain) = 7/27 ≈ 0.26, P(good) = P(bad) = 10/27 ≈ 0.37.
        assertThat(answers.get("plain") / 3000.0).isCloseTo(7 / 27.0, Offset.offset(0.03));
        assertThat(answers.get("good") / 3000.0).isCloseTo(10 / 27.0, Offset.offset(0.03));
        assertThat(answers.get("bad") / 3000.0).isCloseTo(10 / 27.0, Offset.offset(0.03));
    }

    @Test
    void demonstrationsAnswerUniformlySoAboutOneInThreeIsRight() {
        List<SftExample> demos = SentimentTask.standard(5).demonstrations(3000);
        int right = 0;
        for (SftExample d : demos) {
            List<String> listed = d.prompt().words().subList(SentimentTask.PREFIX.size(),
                    d.prompt().words().size() - 1);
            int[] polarities = listed.stream().mapToInt(w -> vocabulary.lookup(w).orElseThrow().polarity()).toArray();
            assertThat(d.response()).hasSize(1).first().isIn("good", "bad", "plain");
            right += d.response().get(0).equals(SentimentTask.answerFor(polarities)) ? 1 : 0;
        }
        assertThat(right / 3000.0).isCloseTo(1 / 3.0, Offset.offset(0.03));
    }

    @Test
    void theSameSeedGivesTheSameItems() {
        assertThat(SentimentTask.standard(9).next(50)).isEqualTo(SentimentTask.standard(9).next(50));
    }
}
