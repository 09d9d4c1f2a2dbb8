package io.streamrlhf.learner.rm;

import io.streamrlhf.learner.rm.eval.RmEvaluation;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.reward.RewardModel;
import io.streamrlhf.models.reward.TransformerRewardModel;
import java.util.ArrayList;
import java.util.List;

/**
 * M reward models that differ in initial weights and data order (member m uses seed {@code seed + m}),
 * each with its own {@link RewardModelTrainer}, and the preference strength they measure together.
 * Members train one after another (the JVM has one gradient collector). The members are the project's
 * transformer reward models, or whatever a {@link RewardModelFactory} makes (Hugging Face folders).
 */
public final class RmEnsemble implements AutoCloseable {

    private final RmTrainingConfig config;
    private final List<RewardModelTrainer> trainers;

    private RmEnsemble(RmTrainingConfig config, List<RewardModelTrainer> trainers) {
        this.config = config;
        this.trainers = List.copyOf(trainers);
    }

    /** M freshly initialised transformer reward models of {@code config.model()}, trained with {@code method}. */
    public static RmEnsemble create(RmTrainingConfig config, RmMethod method) {
        return create(config, method, RewardModelFactory.transformer(config.model()));
    }

    /** M members made by {@code models} (member m from seed {@code config.seed() + m}), trained with {@code method}. */
    public static RmEnsemble create(RmTrainingConfig config, RmMethod method, RewardModelFactory models) {
        List<RewardModelTrainer> trainers = new ArrayList<>();
        try {
            for (int m = 0; m < config.ensembleSize(); m++) {
                long seed = config.seed() + m;
                RewardModel model = models.create(seed);
                try {
                    trainers.add(new RewardModelTrainer(model, config, method, seed));
                } catch (RuntimeException e) {
                    model.close();
                    throw e;
                }
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

    /**
     * Member m's model, of an ensemble of transformer reward models.
     *
     * @throws IllegalStateException when the member is another kind of model (use {@link #model(int)})
     */
    public TransformerRewardModel member(int m) {
        RewardModel model = trainers.get(m).model();
        if (!(model instanceof TransformerRewardModel t)) {
            throw new IllegalStateException("member " + m + " is a " + model.architecture()
                    + " reward model, not a transformer one");
        }
        return t;
    }

    /** The members' models, of an ensemble of transformer reward models (as {@link #member(int)}). */
    public List<TransformerRewardModel> members() {
        List<TransformerRewardModel> out = new ArrayList<>();
        for (int m = 0; m < trainers.size(); m++) {
            out.add(member(m));
        }
        return out;
    }

    /** Member m's model, of whatever kind. */
    public RewardModel model(int m) {
        return trainers.get(m).model();
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
