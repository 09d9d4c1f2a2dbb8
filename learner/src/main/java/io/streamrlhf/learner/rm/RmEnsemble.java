package io.streamrlhf.learner.rm;

import io.streamrlhf.learner.rm.eval.RmEvaluation;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.reward.TransformerRewardModel;
import java.util.ArrayList;
import java.util.List;

/**
 * M reward models that differ in initial weights and data order (member m uses seed {@code seed + m}),
 * each with its own {@link RewardModelTrainer}, and the preference strength they measure together.
 * Members train one after another (the JVM has one gradient collector).
 */
public final class RmEnsemble implements AutoCloseable {

    private final RmTrainingConfig config;
    private final List<RewardModelTrainer> trainers;

    private RmEnsemble(RmTrainingConfig config, List<RewardModelTrainer> trainers) {
        this.config = config;
        this.trainers = List.copyOf(trainers);
    }

    /** M freshly initialised members trained with {@code method}. */
    public static RmEnsemble create(RmTrainingConfig config, RmMethod method) {
        List<RewardModelTrainer> trainers = new ArrayList<>();
        try {
            for (int m = 0; m < config.ensembleSize(); m++) {
                long seed = config.seed() + m;
                trainers.add(new RewardModelTrainer(TransformerRewardModel.create(config.model(), seed), config, method,
                        seed));
            }
        } catch (RuntimeException e) {
            trainers.forEach(t -> t.model().close());
            throw e;
        }
        return new RmEnsemble(config, trainers);
    }

    /** Members restored from checkpoints (one per member, in order), trained on with {@code method}. */
    public static RmEnsemble fromCheckpoints(RmTrainingConfig config, RmMethod method, List<Checkpoint> checkpoints) {
        List<RewardModelTrainer> trainers = new ArrayList<>();
        try {
            for (int m = 0; m < checkpoints.size(); m++) {
                trainers.add(new RewardModelTrainer(TransformerRewardModel.fromCheckpoint(checkpoints.get(m)), config,
                        method, config.seed() + m));
            }
        } catch (RuntimeException e) {
            trainers.forEach(t -> t.model().close());
            throw e;
        }
        return new RmEnsemble(config, trainers);
    }

    /** Number of members M. */
    public int size() {
        return trainers.size();
    }

    /** Member m's model. */
    public TransformerRewardModel member(int m) {
        return (TransformerRewardModel) trainers.get(m).model();
    }

    /** The members' models, in order. */
    public List<TransformerRewardModel> members() {
        return trainers.stream().map(t -> (TransformerRewardModel) t.model()).toList();
    }

    /** Member m's trainer. */
    public RewardModelTrainer trainer(int m) {
        return trainers.get(m);
    }

    /**
     * Trains every member on the same pairs, one after another, each in its own data order.
     *
     * @return one report per member
     */
    public List<RewardModelTrainer.Report> train(List<TrainingPair> pairs, List<PromptGroup> meta, RmProgress progress) {
        List<RewardModelTrainer.Report> reports = new ArrayList<>();
        for (int m = 0; m < trainers.size(); m++) {
            RewardModelTrainer t = trainers.get(m);
            reports.add(t.train(pairs, meta, progress, "rm-" + m + " " + t.method().name()));
        }
        return reports;
    }

    /** The ensemble's preference strength of each pair (Part II §3.1). */
    public List<PairStrength> strengths(List<EncodedPair> pairs) {
        double[][] diffs = new double[trainers.size()][];
        for (int m = 0; m < trainers.size(); m++) {
            diffs[m] = RmEvaluation.differences(trainers.get(m).model(), pairs);
        }
        List<PairStrength> out = new ArrayList<>(pairs.size());
        double[] column = new double[trainers.size()];
        for (int i = 0; i < pairs.size(); i++) {
            for (int m = 0; m < column.length; m++) {
                column[m] = diffs[m][i];
            }
            out.add(PairStrength.of(column));
        }
        return out;
    }

    /** The training settings. */
    public RmTrainingConfig config() {
        return config;
    }

    @Override
    public void close() {
        trainers.forEach(t -> t.model().close());
    }
}
