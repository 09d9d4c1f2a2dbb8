package io.streamrlhf.learner.rm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamrlhf.learner.rm.eval.RmEvaluation;
import io.streamrlhf.learner.rm.offline.RmPipeline;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfRewardModel;
import io.streamrlhf.models.hf.HfTrainableRewardModel;
import io.streamrlhf.models.hf.RewardInputs;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import io.streamrlhf.models.reward.RewardScores;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Role;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reward models trained from tiny Qwen2-format Hugging Face folders (a causal LM, and a sequence-classification
 * folder) on text pairs encoded with the folder's own tokenizer and chat template: training raises the pairwise
 * accuracy, the trained model saved as a folder gives the same rewards through {@link HfRewardModel} on the ids the
 * reward stream's {@code hf:DIR} renders, and the methods' options reach the loss.
 */
class HfRewardModelTrainingTest {

    private static final String[] TOPICS = {"sea", "moon", "city", "forest", "river", "cat", "song", "road", "storm",
        "garden", "bread", "winter", "train", "lamp", "hill", "book"};

    @TempDir
    static Path tmp;

    private static Path causal;
    private static Path reward;
    private static HfTokenizer tokenizer;
    private static List<EncodedPair> pairs;

    @BeforeAll
    static void start() throws Exception {
        ModelRuntime.init(1);
        int vocab = TinyHfModels.Architecture.QWEN2.config().vocabSize();
        causal = TinyHfModels.writeTokenizer(TinyHfModels.write(tmp.resolve("causal"),
                TinyHfModels.Architecture.QWEN2, 21), vocab);
        reward = TinyHfModels.writeTokenizer(TinyHfModels.writeReward(tmp.resolve("reward"),
                TinyHfModels.Architecture.QWEN2, 22, 0), vocab);
        tokenizer = HfTokenizer.load(causal);
        pairs = separablePairs(HfPairEncoder.of(tokenizer));
    }

    @AfterAll
    static void stop() {
        tokenizer.close();
    }

    /**
     * 32 pairs that two words tell apart: asked which is better, the chosen response calls its topic good and the
     * rejected one bad; asked which is worse, the other way round. Each response appears once chosen and once
     * rejected, so no single word orders the pairs and an untrained model is right on about half of them.
     */
    static List<EncodedPair> separablePairs(PairEncoder encoder) {
        List<EncodedPair> out = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            String topic = TOPICS[i % TOPICS.length];
            boolean better = i < TOPICS.length;
            String good = "the " + topic + " is good";
            String bad = "the " + topic + " is bad";
            out.add(encoder.encode("p" + i, prompt(i), better ? good : bad, better ? bad : good));
        }
        return out;
    }

    private static String prompt(int i) {
        return "which " + TOPICS[i % TOPICS.length] + " is " + (i < TOPICS.length ? "better" : "worse") + "?";
    }

    private static RmTrainingConfig config(HfTrainableRewardModel model, int ensemble, int epochs) {
        return new RmTrainingConfig(model.config(), ensemble, epochs, 8, 3e-3, 0.0, 1.0, 5);
    }

    @ParameterizedTest
    @ValueSource(strings = {"causal", "reward"})
    void trainingRaisesPairwiseAccuracyAndTheSavedFolderScoresAsTheModelInMemory(String start) {
        Path dir = "causal".equals(start) ? causal : reward;
        Path out = tmp.resolve("trained-" + start);
        try (HfTrainableRewardModel model = HfTrainableRewardModel.load(dir, 0, 5)) {
            assertThat(model.newHead()).isEqualTo("causal".equals(start));
            double before = RmEvaluation.of(model, pairs, List.of()).pairwiseAccuracy();
            RewardModelTrainer trainer = new RewardModelTrainer(model, config(model, 1, 12), RmMethod.BRADLEY_TERRY, 5);
            RewardModelTrainer.Report report = trainer.train(pairs.stream().map(TrainingPair::plain).toList(),
                    List.of(), RmProgress.NONE, start);
            double after = RmEvaluation.of(model, pairs, List.of()).pairwiseAccuracy();
            assertThat(report.lastEpochLoss()).as("the loss falls well below log 2").isLessThan(0.3);
            assertThat(after).as("pairwise accuracy after training, %.3f before", before).isGreaterThanOrEqualTo(0.95);
            assertThat(after - before).as("gain in pairwise accuracy (%.3f before)", before).isGreaterThan(0.25);

            model.save(out);
            List<int[]> prompts = new ArrayList<>();
            List<int[]> responses = new ArrayList<>();
            for (EncodedPair p : pairs.subList(0, 6)) {
                prompts.add(p.conversation());
                responses.add(p.chosen());
            }
            RewardScores inMemory = model.score(prompts, responses);
            try (HfRewardModel loaded = HfRewardModel.load(out); HfTokenizer saved = HfTokenizer.load(out)) {
                for (int i = 0; i < 6; i++) {
                    // the ids hf:DIR scores for this generation, from the saved folder's own tokenizer
                    int[] ids = RewardInputs.ids(saved, prompt(i), "the " + TOPICS[i] + " is good");
                    try (NDManager step = loaded.manager().newSubManager()) {
                        float r = loaded.rewards(step.create(ids, new Shape(1, ids.length))).getFloat(0);
                        assertThat((double) r).as("pair %d", i).isCloseTo(inMemory.scores()[i], within(1e-5));
                    }
                }
            }
        }
    }

    @Test
    void pairsAreEncodedAsHfDirRendersThem() {
        EncodedPair p = pairs.get(3);
        int[] chosenRow = concat(p.conversation(), p.chosen());
        assertThat(chosenRow).containsExactly(RewardInputs.ids(tokenizer, "which forest is better?", "the forest is good"));
        assertThat(concat(p.conversation(), p.rejected()))
                .containsExactly(RewardInputs.ids(tokenizer, "which forest is better?", "the forest is bad"));
        // ChatML: the prompt part is the prompt rendered with the generation prompt; the rows share nothing more
        // ("good" and "bad" differ from their first character)
        assertThat(p.conversation()).containsExactly(RewardInputs.promptIds(tokenizer, "which forest is better?"));
        assertThat(tokenizer.decode(p.chosen(), false)).isEqualTo("the forest is good<|im_end|>\n");
        // a pair from the preferences topic: a multi-turn prompt is the text a worker records on its generation
        var turns = List.of(new ConversationTurn(Role.SYSTEM, "be brief"), new ConversationTurn(Role.USER, "hi"));
        assertThat(HfPairEncoder.promptText(turns)).isEqualTo("system: be brief\nuser: hi");
        assertThatThrownBy(() -> HfPairEncoder.of(tokenizer).response("x"))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("prompt");
    }

    @Test
    void everyMethodOptionReachesTheLossOfAHuggingFaceModel() {
        List<TrainingPair> batch = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            batch.add(new TrainingPair(pairs.get(i), 0.8, false));
        }
        try (HfTrainableRewardModel model = HfTrainableRewardModel.load(causal, 0, 9);
             NDManager step = model.manager().newSubManager()) {
            RmTrainingConfig config = config(model, 1, 1);
            double bt = loss(model, config, "bt", batch, step);
            // bt is −mean log σ(r_c − r_r), the margins ignored
            RewardScores chosen = model.score(batch.stream().map(p -> p.pair().conversation()).toList(),
                    batch.stream().map(p -> p.pair().chosen()).toList());
            RewardScores rejected = model.score(batch.stream().map(p -> p.pair().conversation()).toList(),
                    batch.stream().map(p -> p.pair().rejected()).toList());
            double expected = 0;
            for (int i = 0; i < batch.size(); i++) {
                double d = chosen.scores()[i] - rejected.scores()[i];
                expected += Math.log1p(Math.exp(-d)) / batch.size();
            }
            assertThat(bt).isCloseTo(expected, within(1e-5));
            for (String method : List.of("smooth:0.2", "margin", "contrastive:0.5")) {
                assertThat(loss(model, config, method, batch, step)).as(method).isNotCloseTo(bt, within(1e-4));
            }
            // the margin enters as −log σ(Δ − m)
            double withMargin = 0;
            for (int i = 0; i < batch.size(); i++) {
                double d = chosen.scores()[i] - rejected.scores()[i] - 0.8;
                withMargin += Math.log1p(Math.exp(-d)) / batch.size();
            }
            assertThat(loss(model, config, "margin", batch, step)).isCloseTo(withMargin, within(1e-5));
            assertThat(model.residualDropout()).as("the views leave dropout off").isZero();
        }
    }

    @Test
    void anEnsembleWithFlippingAndMarginTrainsFromTheFolder() {
        try (HfTrainableRewardModel shape = HfTrainableRewardModel.load(causal, 0, 0)) {
            RmTrainingConfig config = config(shape, 2, 2);
            RmPipeline.Outcome outcome = RmPipeline.train(config, RmMethod.parse("flip+margin"), pairs, List.of(),
                    RewardModelFactory.huggingFace(causal, 0), RmProgress.NONE);
            try (RmEnsemble ensemble = outcome.ensemble()) {
                assertThat(ensemble.size()).isEqualTo(2);
                assertThat(ensemble.model(0)).isInstanceOf(HfTrainableRewardModel.class);
                assertThat(outcome.priorStrengths()).hasSize(pairs.size());
                assertThat(outcome.strengths()).hasSize(pairs.size());
                assertThat(outcome.reports()).hasSize(2);
                // members start from heads drawn from their own seeds
                assertThat(outcome.strengths().get(0).std()).isGreaterThan(0);
                assertThatThrownBy(() -> ensemble.member(0)).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining(HfTrainableRewardModel.ARCHITECTURE);
            }
        }
    }

    private static double loss(HfTrainableRewardModel model, RmTrainingConfig config, String method,
                               List<TrainingPair> batch, NDManager step) {
        return new RewardModelTrainer(model, config, RmMethod.parse(method), 1).loss(step, batch).getFloat();
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
