package io.streamrlhf.learner.rm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import io.streamrlhf.learner.rm.eval.BestOfNGroup;
import io.streamrlhf.learner.rm.eval.RmEvaluation;
import io.streamrlhf.learner.rm.offline.SyntheticPreferences;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.reward.RewardScores;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.models.world.SyntheticWorld;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The trainer's wiring on a small model: training fits the pairs, the contrastive term adds exactly
 * λ·SimCSE of two dropout views (dropout inside the trunk) of the pooled representations, a meta step raises MetaRM's objective, and the ensemble's
 * strength is the mean and spread of its members' differences.
 */
class RewardModelTrainerTest {

    private static final int VOCAB = SyntheticWorld.standard().vocabulary().size();
    private static final TransformerConfig SHAPE = new TransformerConfig(VOCAB, 64, 16, 1, 2);
    private static SyntheticPreferences data;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
        data = SyntheticPreferences.generate(SyntheticWorld.standard(), 96, 32, 4, 3, 0.0, 5);
    }

    private static RmTrainingConfig config(int epochs) {
        return new RmTrainingConfig(SHAPE, 2, epochs, 16, 3e-3, 0.0, 1.0, 3);
    }

    @Test
    void trainingFitsTheTrainingPairs() {
        try (TransformerRewardModel model = TransformerRewardModel.create(SHAPE, 3)) {
            List<TrainingPair> pairs = data.train().stream().map(TrainingPair::plain).toList();
            double before = RmEvaluation.of(model, data.train(), List.of()).pairwiseAccuracy();
            RewardModelTrainer trainer = new RewardModelTrainer(model, config(8), RmMethod.BRADLEY_TERRY, 3);
            RewardModelTrainer.Report report = trainer.train(pairs, List.of(), RmProgress.NONE, "fit");
            double after = RmEvaluation.of(model, data.train(), List.of()).pairwiseAccuracy();
            assertThat(report.steps()).isEqualTo(8 * 6);
            assertThat(trainer.steps()).isEqualTo(48);
            assertThat(report.lastEpochLoss()).as("the loss falls below log 2").isLessThan(0.6);
            assertThat(after).as("accuracy on the training pairs, before %.3f", before).isGreaterThan(0.8);
        }
    }

    @Test
    void contrastiveTermAddsLambdaTimesSimCseOfThePooledRepresentations() {
        // Dropout 0: both views are the pooled representations themselves, so the term is computable by hand.
        RmMethod contrastive = new RmMethod("contrastive", RmMethod.FlipMode.NONE, 0, 0, false, 1, 0.5, 0.2, 0.0, 0, 1);
        List<TrainingPair> batch = data.train().subList(0, 6).stream().map(TrainingPair::plain).toList();
        try (TransformerRewardModel model = TransformerRewardModel.create(SHAPE, 9);
             NDManager step = model.manager().newSubManager()) {
            double withTerm = new RewardModelTrainer(model, config(1), contrastive, 1).loss(step, batch).getFloat();
            double plain = new RewardModelTrainer(model, config(1), RmMethod.BRADLEY_TERRY, 1).loss(step, batch).getFloat();
            List<int[]> prompts = new ArrayList<>();
            List<int[]> responses = new ArrayList<>();
            batch.forEach(p -> {
                prompts.add(p.pair().conversation());
                responses.add(p.pair().chosen());
            });
            batch.forEach(p -> {
                prompts.add(p.pair().conversation());
                responses.add(p.pair().rejected());
            });
            RewardScores scores = model.score(prompts, responses);
            double expected = 0.5 * infoNce(scores.pooled(), 0.2);
            assertThat(withTerm - plain).isCloseTo(expected, within(1e-4));
            assertThat(expected).isGreaterThan(0);
        }
    }

    @Test
    void contrastiveViewsComeFromTwoPassesWithDropoutInsideTheTrunk() {
        // Dropout 0.3 in every layer's residual branches: the term is λ·SimCSE of two passes with fresh masks,
        // reproduced here by seeding PyTorch's generator the same way before the trainer's loss and before ours.
        RmMethod contrastive = new RmMethod("contrastive", RmMethod.FlipMode.NONE, 0, 0, false, 1, 0.5, 0.2, 0.3, 0, 1);
        List<TrainingPair> batch = data.train().subList(0, 6).stream().map(TrainingPair::plain).toList();
        try (TransformerRewardModel model = TransformerRewardModel.create(SHAPE, 9);
             NDManager step = model.manager().newSubManager()) {
            ModelRuntime.seed(123);
            double withTerm = new RewardModelTrainer(model, config(1), contrastive, 1).loss(step, batch).getFloat();
            assertThat(model.block().trunk().residualDropout()).as("dropout is off again after the views").isZero();
            double plain = new RewardModelTrainer(model, config(1), RmMethod.BRADLEY_TERRY, 1).loss(step, batch).getFloat();
            List<int[]> prompts = new ArrayList<>();
            List<int[]> responses = new ArrayList<>();
            batch.forEach(p -> {
                prompts.add(p.pair().conversation());
                responses.add(p.pair().chosen());
            });
            batch.forEach(p -> {
                prompts.add(p.pair().conversation());
                responses.add(p.pair().rejected());
            });
            SequenceBatch seq = SequenceBatch.pack(step, prompts, responses, SHAPE.contextLength());
            ModelRuntime.seed(123);
            model.block().trunk().setResidualDropout(0.3f);
            float[][] view1 = rows(model.forward(seq.tokens(), seq.mask(), true).pooled().toFloatArray(), 12);
            float[][] view2 = rows(model.forward(seq.tokens(), seq.mask(), true).pooled().toFloatArray(), 12);
            model.block().trunk().setResidualDropout(0f);
            double expected = 0.5 * infoNce(view1, view2, 0.2);
            assertThat(withTerm - plain).isCloseTo(expected, within(1e-4));
            // The views really differ, so the term is above its no-dropout value (identical views).
            float[][] clean = model.score(prompts, responses).pooled();
            assertThat(view1[0]).isNotEqualTo(view2[0]);
            assertThat(expected).isGreaterThan(0.5 * infoNce(clean, clean, 0.2));
        }
    }

    private static float[][] rows(float[] flat, int n) {
        int d = flat.length / n;
        float[][] out = new float[n][d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * d, out[i], 0, d);
        }
        return out;
    }

    /** −(1/N)·Σ_i log softmax_j(cos(z_i, z_j)/τ)_i, in doubles. */
    private static double infoNce(float[][] z, double tau) {
        return infoNce(z, z, tau);
    }

    /** −(1/N)·Σ_i log softmax_j(cos(z1_i, z2_j)/τ)_i, in doubles. */
    private static double infoNce(float[][] z1, float[][] z2, double tau) {
        int n = z1.length;
        double total = 0;
        for (int i = 0; i < n; i++) {
            double[] logits = new double[n];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                logits[j] = cosine(z1[i], z2[j]) / tau;
                max = Math.max(max, logits[j]);
            }
            double sum = 0;
            for (double l : logits) {
                sum += Math.exp(l - max);
            }
            total += -(logits[i] - max - Math.log(sum));
        }
        return total / n;
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int k = 0; k < a.length; k++) {
            dot += a[k] * b[k];
            na += a[k] * a[k];
            nb += b[k] * b[k];
        }
        return dot / Math.sqrt(na * nb);
    }

    @Test
    void metaStepRaisesTheDifferenceObjectiveOnTheShiftedSamples() {
        List<PromptGroup> groups = new ArrayList<>();
        for (BestOfNGroup g : data.bestOfN()) {
            groups.add(new PromptGroup("p" + groups.size(), g.prompt(), g.responses()));
        }
        List<TrainingPair> batch = data.train().subList(0, 16).stream().map(TrainingPair::plain).toList();
        try (TransformerRewardModel model = TransformerRewardModel.create(SHAPE, 4)) {
            RewardModelTrainer trainer = new RewardModelTrainer(model, config(1),
                    RmMethod.BRADLEY_TERRY.withMeta(0.5, 1), 4);
            double before;
            try (NDManager step = model.manager().newSubManager()) {
                before = trainer.metaObjective(step, groups).getFloat();
            }
            double loss = trainer.metaStep(batch, groups);
            double after;
            try (NDManager step = model.manager().newSubManager()) {
                after = trainer.metaObjective(step, groups).getFloat();
            }
            assertThat(loss).isFinite();
            assertThat(after).as("J before %.5f", before).isGreaterThan(before);
        }
    }

    @Test
    void ensembleStrengthIsTheMeanAndSpreadOfItsMembersDifferences() {
        List<EncodedPair> pairs = data.heldOut().subList(0, 10);
        try (RmEnsemble ensemble = RmEnsemble.create(config(1), RmMethod.BRADLEY_TERRY)) {
            ensemble.train(data.train().stream().map(TrainingPair::plain).toList(), List.of(), RmProgress.NONE);
            double[] d0 = RmEvaluation.differences(ensemble.member(0), pairs);
            double[] d1 = RmEvaluation.differences(ensemble.member(1), pairs);
            List<PairStrength> strengths = ensemble.strengths(pairs);
            assertThat(strengths).hasSize(10);
            for (int i = 0; i < pairs.size(); i++) {
                assertThat(strengths.get(i).mean()).isCloseTo((d0[i] + d1[i]) / 2, within(1e-6));
                assertThat(strengths.get(i).std()).isCloseTo(Math.abs(d0[i] - d1[i]) / 2, within(1e-6));
                assertThat(strengths.get(i).ensembleSize()).isEqualTo(2);
            }
            assertThat(d0).as("members differ in seed and data order").isNotEqualTo(d1);
        }
    }
}
