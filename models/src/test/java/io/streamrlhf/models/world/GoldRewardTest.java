package io.streamrlhf.models.world;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class GoldRewardTest {

    private static final double EPS = 1e-12;
    private final SyntheticWorld world = SyntheticWorld.standard();
    private final GoldReward gold = world.gold();

    private static List<String> words(String text) {
        return Vocabulary.split(text);
    }

    @Test
    void goodResponseScoresEveryComponentByHand() {
        // 10 words, two grammatical sentences, nouns ocean+waves on topic, positives beautiful+love.
        List<String> r = words("the ocean is beautiful . i love the waves .");
        GoldScore s = gold.score("ocean", r);
        assertThat(s.sentiment()).isCloseTo(2.0 / 3.0, within(EPS));   // (2 - 0) / (2 + 0 + 1)
        assertThat(s.onTopic()).isCloseTo(1.0, within(EPS));
        assertThat(s.fluency()).isCloseTo(1.0, within(EPS));
        assertThat(s.repetition()).isCloseTo(0.0, within(EPS));        // ocean beautiful love waves: distinct
        assertThat(s.length()).isCloseTo(10.0 / 12.0, within(EPS));
        assertThat(s.total()).isCloseTo(2.0 / 3.0 + 1 + 1 - 0 + 0.5 * 10.0 / 12.0, within(EPS));
    }

    @Test
    void mixedResponseComponents() {
        // Sentence 1 grammatical (5 words); sentence 2 has a doubled word (6 words, not grammatical);
        // 3 trailing words unterminated. 14 words. Nouns: forest (on), rain (off), trees (on), forest (on).
        List<String> r = words("the forest is gloomy . the the rain is lovely . the trees forest");
        assertThat(r).hasSize(14);
        assertThat(gold.sentiment(r)).isCloseTo(0.0, within(EPS));     // (1 - 1) / 3
        assertThat(gold.onTopic("forest", r)).isCloseTo(3.0 / 4.0, within(EPS));
        assertThat(gold.fluency(r)).isCloseTo(5.0 / 14.0, within(EPS));
        // content: forest gloomy rain lovely trees forest -> 6 words, 5 distinct
        assertThat(gold.repetition(r)).isCloseTo(1.0 / 6.0, within(EPS));
        assertThat(gold.length(r)).isCloseTo(1.0, within(EPS));
        assertThat(gold.score("forest", r).total())
                .isCloseTo(0 + 0.75 + 5.0 / 14.0 - 1.5 / 6.0 + 0.5, within(EPS));
    }

    @Test
    void negativeOffTopicAndTooLong() {
        // 8 copies of a 5-word sentence = 40 words: length 1 - (40 - 32) / 32 = 0.75.
        String sentence = "the snow is awful . ";
        List<String> r = words(sentence.repeat(8));
        assertThat(r).hasSize(40);
        GoldScore s = gold.score("ocean", r);
        assertThat(s.sentiment()).isCloseTo(-8.0 / 9.0, within(EPS));
        assertThat(s.onTopic()).isCloseTo(0.0, within(EPS));
        assertThat(s.fluency()).isCloseTo(1.0, within(EPS));
        assertThat(s.repetition()).isCloseTo(14.0 / 16.0, within(EPS));  // 16 content words, 2 distinct
        assertThat(s.length()).isCloseTo(0.75, within(EPS));
        assertThat(gold.length(words("a ".repeat(64)))).isCloseTo(0.0, within(EPS));
        assertThat(gold.length(words("a ".repeat(70)))).isCloseTo(0.0, within(EPS));
    }

    @Test
    void emptyAndUnknownWords() {
        GoldScore empty = gold.score("ocean", List.of());
        assertThat(empty.total()).isCloseTo(0.0, within(EPS));
        // An unknown word breaks the sentence it sits in.
        List<String> r = words("the ocean is zzz .");
        assertThat(gold.fluency(r)).isCloseTo(0.0, within(EPS));
        assertThat(gold.onTopic("ocean", r)).isCloseTo(1.0, within(EPS));
    }

    @Test
    void scoresTextAndIdsLikeWords() {
        String prompt = "write about the ocean :";
        String response = "the ocean is beautiful . i love the waves .";
        double expected = gold.score("ocean", words(response)).total();
        assertThat(gold.scoreText(prompt, response).total()).isCloseTo(expected, within(EPS));
        Vocabulary v = world.vocabulary();
        int[] promptIds = v.encode(words("<bos> " + prompt));
        int[] responseIds = v.encode(words(response + " <eos> <pad> <pad>"));
        assertThat(gold.scoreIds(promptIds, responseIds).total()).isCloseTo(expected, within(EPS));
    }

    @Test
    void totalStaysOnTheFixedScale() {
        for (SftExample e : world.corpus().generate(2000, 5)) {
            assertThat(gold.score(e.prompt(), e.response()).total())
                    .isBetween(GoldReward.MIN_TOTAL, GoldReward.MAX_TOTAL);
        }
        assertThat(GoldReward.MIN_TOTAL).isEqualTo(-2.5);
        assertThat(GoldReward.MAX_TOTAL).isEqualTo(3.5);
    }

    /**
     * A naive proxy that learned "positive words are good" (count of positive minus negative words)
     * prefers a pile of liked words; the gold reward's repetition, fluency and topic terms punish it.
     */
    @Test
    void repeatingLikedWordsFoolsANaiveProxyButNotGold() {
        Vocabulary v = world.vocabulary();
        java.util.function.ToIntFunction<List<String>> sentimentCountProxy = r -> r.stream()
                .mapToInt(w -> v.lookup(w).map(Word::polarity).orElse(0)).sum();
        List<String> honest = words("the ocean is beautiful . i love the waves . the sand is bright !");
        List<String> hack = words("great great great great wonderful wonderful love love love .");
        List<String> grammaticalHack = words("the ocean is great . ".repeat(4));

        assertThat(sentimentCountProxy.applyAsInt(hack)).isGreaterThan(sentimentCountProxy.applyAsInt(honest));
        assertThat(sentimentCountProxy.applyAsInt(grammaticalHack))
                .isGreaterThan(sentimentCountProxy.applyAsInt(honest));

        double honestGold = gold.score("ocean", honest).total();
        double hackGold = gold.score("ocean", hack).total();
        double grammaticalHackGold = gold.score("ocean", grammaticalHack).total();
        assertThat(hackGold).isLessThan(0.5);
        assertThat(honestGold).isGreaterThan(2.5);
        assertThat(grammaticalHackGold).isLessThan(honestGold - 0.5);
        // the hack's own components: saturated sentiment, no grammar, no topic, heavy repetition
        GoldScore s = gold.score("ocean", hack);
        assertThat(s.sentiment()).isCloseTo(9.0 / 10.0, within(EPS));
        assertThat(s.fluency()).isZero();
        assertThat(s.onTopic()).isZero();
        assertThat(s.repetition()).isCloseTo(6.0 / 9.0, within(EPS));
    }
}
