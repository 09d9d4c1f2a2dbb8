package io.streamrlhf.models.sft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.models.world.PreferenceRecord;
import io.streamrlhf.models.world.SftExample;
import io.streamrlhf.models.world.SimulatedRater;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.models.world.WorldPrompt;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class SftTrainerTest {

    private static final Logger LOG = LoggerFactory.getLogger(SftTrainerTest.class);
    private static final SyntheticWorld WORLD = SyntheticWorld.standard();
    private static final Vocabulary VOCAB = WORLD.vocabulary();
    /** A policy small enough for quick plumbing tests. */
    private static final TransformerConfig TINY = new TransformerConfig(VOCAB.size(), 64, 32, 1, 2);

    @BeforeAll
    static void engine() {
        ModelRuntime.init(1);
    }

    @Test
    void batchLearnsResponseTokensOnlyAndPadsOnTheRight() {
        WorldPrompt prompt = WORLD.prompts(0).forTopic("ocean", 2);  // describe the ocean :
        List<SftExample> examples = List.of(
                new SftExample(prompt, Vocabulary.split("the ocean is calm .")),
                new SftExample(prompt, Vocabulary.split("i love the waves ! the sand is bright .")));
        SftBatch batch = SftBatch.of(examples, VOCAB, 64);
        // row 1: <bos> describe the ocean : (5) + 10 words + <eos> = 16 tokens
        assertThat(batch.length()).isEqualTo(16);
        assertThat(batch.rows()).isEqualTo(2);
        int t = batch.length();
        // row 0: 5 prompt + 5 words + eos = 11 tokens, then padding
        assertThat(batch.tokens()[10]).isEqualTo(VOCAB.eosId());
        assertThat(batch.tokens()[11]).isEqualTo(VOCAB.padId());
        assertThat(batch.attention()[10]).isEqualTo(1f);
        assertThat(batch.attention()[11]).isEqualTo(0f);
        // targets are tokens 5..10 of row 0: mask positions 4..9
        for (int j = 0; j < t - 1; j++) {
            assertThat(batch.lossMask()[j]).as("row 0 position %d", j).isEqualTo(j >= 4 && j <= 9 ? 1f : 0f);
        }
        assertThat(batch.targetCount()).isEqualTo(6 + 11);
        // a cut at the context keeps the first tokens
        assertThat(SftBatch.of(examples, VOCAB, 8).length()).isEqualTo(8);
    }

    /**
     * The demo's policy shape (d 128, 2 layers, 4 heads, context 64, vocabulary 319) trained for 150
     * steps of 32 sequences. A fresh policy is near uniform (perplexity about the vocabulary size,
     * about 335); this short run reaches about 20, so the threshold 30 leaves room for the run-to-run spread
     * (docs/synthetic-world.md has the full run).
     */
    @Test
    void shortRunLowersHeldOutPerplexityBelowThreshold() {
        SftConfig config = new SftConfig(SftConfig.DEMO_MODEL, 150, 32, 3e-3, 0.01, 20, 8_000, 256, 7L);
        SftTrainer trainer = new SftTrainer(WORLD, config);
        try (TransformerPolicy policy = TransformerPolicy.create(config.model(), config.seed())) {
            SftResult result = trainer.train(policy, false);
            LOG.info("short SFT run: {}", result);
            assertThat(result.initialPerplexity()).isGreaterThan(200);
            assertThat(result.finalPerplexity()).isLessThan(30);
            assertThat(result.finalLoss()).isLessThan(Math.log(30) + 0.5);
        }
    }

    @Test
    void jobWritesACheckpointThatReloadsToTheSamePerplexity(@TempDir Path dir) {
        SftConfig config = new SftConfig(TINY, 30, 16, 3e-3, 0.01, 5, 1_000, 64, 3L);
        Path out = dir.resolve("sft");
        SftResult result = SftJob.run(config, out, false);
        assertThat(result.finalPerplexity()).isLessThan(result.initialPerplexity());
        var checkpoint = CheckpointStore.load(out);
        assertThat(checkpoint.metadata()).containsEntry("world", SftJob.WORLD).containsEntry("sft.steps", "30");
        assertThat(checkpoint.config()).isEqualTo(TINY);
        try (TransformerPolicy loaded = TransformerPolicy.fromCheckpoint(checkpoint)) {
            double ppl = new SftTrainer(WORLD, config).heldOutPerplexity(loaded);
            assertThat(ppl).isCloseTo(result.finalPerplexity(), within(1e-3 * ppl));
        }
    }

    @Test
    void policyAnswersPromptsForTheOfflinePreferenceSet() {
        try (TransformerPolicy policy = TransformerPolicy.create(TINY, 5)) {
            List<PreferenceRecord> set = OfflinePreferenceSet.generate(policy, WORLD,
                    new SimulatedRater(0.5, 0.1, 1), 40, 11);
            assertThat(set).hasSize(40);
            for (PreferenceRecord r : set) {
                assertThat(r.chosen()).isNotEqualTo(r.rejected());
                assertThat(WORLD.gold().scoreText(r.prompt(), r.chosen()).total()).isEqualTo(r.chosenGold());
                assertThat(r.chosen()).doesNotContain(Vocabulary.EOS);
            }
            // the same seeds give the same set
            List<PreferenceRecord> again = OfflinePreferenceSet.generate(policy, WORLD,
                    new SimulatedRater(0.5, 0.1, 1), 40, 11);
            assertThat(again).isEqualTo(set);
        }
    }

    @Test
    void refusesAPolicyOfAnotherVocabulary() {
        SftConfig config = new SftConfig(TINY, 1, 4, 1e-3, 0, 0, 100, 8, 1L);
        try (TransformerPolicy other = TransformerPolicy.create(TINY.withVocabSize(64), 1)) {
            assertThatThrownBy(() -> new SftTrainer(WORLD, config).train(other, false))
                    .hasMessageContaining("vocabulary 64");
        }
    }
}
