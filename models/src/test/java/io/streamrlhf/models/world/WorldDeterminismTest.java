package io.streamrlhf.models.world;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorldDeterminismTest {

    private final SyntheticWorld world = SyntheticWorld.standard();

    @Test
    void vocabularyHasAFewHundredWordsAndFixedSpecialIds() {
        Vocabulary v = world.vocabulary();
        assertThat(v.size()).isEqualTo(319);
        assertThat(v.padId()).isEqualTo(0);
        assertThat(v.bosId()).isEqualTo(1);
        assertThat(v.eosId()).isEqualTo(2);
        assertThat(v.unkId()).isEqualTo(3);
        assertThat(v.topics()).hasSize(20);
        assertThat(v.wordsOf(WordClass.ADJECTIVE, 1)).hasSize(24);
        assertThat(v.wordsOf(WordClass.ADJECTIVE, -1)).hasSize(24);
        assertThat(new HashSet<>(v.wordList())).hasSize(v.size());
        assertThat(v.id("no-such-word")).isEqualTo(v.unkId());
        assertThatThrownBy(() -> v.word(999)).hasMessageContaining("999");
    }

    @Test
    void tokenizerSharesTheVocabularyIdsAndItsTextReadsBack() {
        Vocabulary v = world.vocabulary();
        var tokenizer = v.tokenizer();
        assertThat(tokenizer.vocabSize()).isEqualTo(v.size());
        for (int id = 0; id < v.size(); id++) {
            assertThat(tokenizer.token(id)).isEqualTo(v.word(id).text());
        }
        List<String> words = Vocabulary.split("the reef is bright , but the tide is harsh !");
        String decoded = tokenizer.decode(v.encode(words));   // "the reef is bright, but the tide is harsh!"
        assertThat(Vocabulary.split(decoded)).isEqualTo(words);
        assertThat(world.gold().scoreText("Write about the OCEAN:", decoded).total())
                .isEqualTo(world.gold().score("ocean", words).total());
        assertThat(tokenizer.encode(Vocabulary.join(words))).isEqualTo(v.encode(words));
        assertThat(Vocabulary.split("calm.<eos><pad>")).containsExactly("calm", ".", "<eos>", "<pad>");
    }

    @Test
    void promptsAreDeterministicBySeed() {
        List<WorldPrompt> a = world.prompts(5).next(100);
        List<WorldPrompt> b = world.prompts(5).next(100);
        List<WorldPrompt> c = world.prompts(6).next(100);
        assertThat(a).isEqualTo(b);
        assertThat(a).isNotEqualTo(c);
        Set<String> topics = new HashSet<>();
        for (WorldPrompt p : a) {
            assertThat(p.words()).contains(p.topic()).endsWith(":");
            assertThat(WorldPrompt.parse(world.vocabulary(), p.text())).isEqualTo(p);
            topics.add(p.topic());
        }
        assertThat(topics.size()).isGreaterThan(15);
    }

    @Test
    void corpusIsDeterministicBySeedAndMostlyOnTopicAndFluent() {
        List<SftExample> a = world.corpus().generate(500, 9);
        assertThat(a).isEqualTo(world.corpus().generate(500, 9));
        assertThat(a).isNotEqualTo(world.corpus().generate(500, 10));
        double onTopic = 0;
        double fluency = 0;
        int flawed = 0;
        int tooLong = 0;
        for (SftExample e : a) {
            GoldScore s = world.gold().score(e.prompt(), e.response());
            onTopic += s.onTopic();
            fluency += s.fluency();
            if (s.fluency() < 1 || s.repetition() > 0.2 || s.onTopic() < 0.5) {
                flawed++;
            }
            if (e.response().size() > GoldReward.MAX_GOOD_LENGTH) {
                tooLong++;
            }
            assertThat(e.response().size()).isLessThanOrEqualTo(CorpusConfig.defaults().maxResponseWords());
        }
        assertThat(onTopic / a.size()).isBetween(0.7, 0.95);
        assertThat(fluency / a.size()).isBetween(0.85, 0.99);
        // realistic flaws are present but not dominant
        assertThat(flawed).isBetween(50, 250);
        assertThat(tooLong).isBetween(5, 100);
    }

    @Test
    void preferenceSetIsLabelledByTheRaterAndRoundTripsThroughJsonl(@TempDir Path dir) {
        PreferenceSetGenerator gen = new PreferenceSetGenerator(world.prompts(1),
                ResponseSource.grammar(world.corpus(), 2), world.gold(), new SimulatedRater(0.5, 0.2, 3), 16);
        List<PreferenceRecord> set = gen.generate(400);
        assertThat(set).hasSize(400);
        int flipped = 0;
        int chosenBetter = 0;
        for (PreferenceRecord r : set) {
            assertThat(world.gold().scoreText(r.prompt(), r.chosen()).total()).isEqualTo(r.chosenGold());
            assertThat(world.gold().scoreText(r.prompt(), r.rejected()).total()).isEqualTo(r.rejectedGold());
            assertThat(r.chosen()).isNotEqualTo(r.rejected());
            flipped += r.flipped() ? 1 : 0;
            chosenBetter += r.chosenGold() > r.rejectedGold() ? 1 : 0;
        }
        assertThat(flipped / 400.0).isBetween(0.2 - 4 * 0.02, 0.2 + 4 * 0.02);
        assertThat(chosenBetter / 400.0).isGreaterThan(0.6);

        Path file = dir.resolve("prefs.jsonl");
        PreferenceSetGenerator.writeJsonl(set, file);
        assertThat(PreferenceSetGenerator.readJsonl(file)).isEqualTo(set);
    }
}
