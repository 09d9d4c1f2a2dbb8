package io.streamrlhf.learner.rm.offline;

import io.streamrlhf.learner.rm.EncodedPair;
import io.streamrlhf.learner.rm.PairStrength;
import io.streamrlhf.learner.rm.PreferenceRelabeling;
import io.streamrlhf.learner.rm.PromptGroup;
import io.streamrlhf.learner.rm.RewardModelFactory;
import io.streamrlhf.learner.rm.RewardModelTrainer;
import io.streamrlhf.learner.rm.RmEnsemble;
import io.streamrlhf.learner.rm.RmMethod;
import io.streamrlhf.learner.rm.RmProgress;
import io.streamrlhf.learner.rm.RmTrainingConfig;
import io.streamrlhf.learner.rm.StrengthSummary;
import io.streamrlhf.learner.rm.TrainingPair;
import java.util.List;

/**
 * Offline training end to end, as Secrets of RLHF Part II does it: when the method needs preference
 * strength, first a plain Bradley–Terry ensemble measures every pair's μ̂ and σ̂, then the method's
 * ensemble trains on the relabelled pairs; otherwise the method's ensemble trains directly. The final
 * ensemble measures the strengths reported (and written back).
 */
public final class RmPipeline {

    private RmPipeline() {
    }

    /**
     * What the pipeline produced; close {@link #ensemble()} when done.
     *
     * @param ensemble       the trained ensemble of the method
     * @param priorStrengths strengths the method used (null when it needed none)
     * @param strengths      strengths the final ensemble measures on the training pairs
     * @param summary        summary of {@code strengths}
     * @param flipped        labels the method flipped
     * @param reports        one training report per member
     */
    public record Outcome(RmEnsemble ensemble, List<PairStrength> priorStrengths, List<PairStrength> strengths,
                          StrengthSummary summary, long flipped, List<RewardModelTrainer.Report> reports) {
    }

    /** Trains an ensemble of transformer reward models of {@code config.model()} for {@code method} on {@code pairs}. */
    public static Outcome train(RmTrainingConfig config, RmMethod method, List<EncodedPair> pairs, List<PromptGroup> meta,
                                RmProgress progress) {
        return train(config, method, pairs, meta, RewardModelFactory.transformer(config.model()), progress);
    }

    /**
     * Trains the ensemble for {@code method} on {@code pairs}, its members (and those of the strength-measuring
     * ensemble) made by {@code models}.
     */
    public static Outcome train(RmTrainingConfig config, RmMethod method, List<EncodedPair> pairs, List<PromptGroup> meta,
                                RewardModelFactory models, RmProgress progress) {
        List<PairStrength> prior = null;
        List<TrainingPair> prepared = pairs.stream().map(TrainingPair::plain).toList();
        if (method.needsStrength()) {
            try (RmEnsemble bt = RmEnsemble.create(config, RmMethod.BRADLEY_TERRY, models)) {
                bt.train(prepared, List.of(), progress);
                prior = bt.strengths(pairs);
            }
            prepared = PreferenceRelabeling.prepare(pairs, prior, method);
        }
        RmEnsemble ensemble = RmEnsemble.create(config, method, models);
        try {
            List<RewardModelTrainer.Report> reports = ensemble.train(prepared, meta, progress);
            List<PairStrength> strengths = ensemble.strengths(pairs);
            double range = Math.max(0.5, Math.ceil(strengths.stream().mapToDouble(x -> Math.abs(x.mean())).max().orElse(1)));
            return new Outcome(ensemble, prior, strengths, StrengthSummary.of(strengths, 12, range),
                    prepared.stream().filter(TrainingPair::flipped).count(), reports);
        } catch (RuntimeException e) {
            ensemble.close();
            throw e;
        }
    }
}
