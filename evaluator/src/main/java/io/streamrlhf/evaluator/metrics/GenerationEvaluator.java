package io.streamrlhf.evaluator.metrics;

import io.streamrlhf.models.world.GoldReward;
import io.streamrlhf.rewardstream.scoring.NormalizationState;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.rewardstream.scoring.ScoringOutcome;
import io.streamrlhf.rewardstream.scoring.SourceResult;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.avro.SourceScore;
import java.util.ArrayList;
import java.util.List;

/**
 * Policy and reward-model comparisons from replayed records: {@code scored} records bring their own rewards and
 * per-source scores; {@code generations} are scored here with an ensemble (raw scores, see
 * {@link EvaluationSources#ensemble}). With a {@link GoldReward} (the synthetic world) each generation's gold reward
 * is computed from its token ids, so the comparisons show gold beside the proxy.
 */
public final class GenerationEvaluator {

    private final RewardEnsemble ensemble;
    private final GoldReward gold;
    private final PolicyComparison.Accumulator policies = new PolicyComparison.Accumulator();
    private final RmComparison.Accumulator rms = new RmComparison.Accumulator();
    private final NormalizationState state = new NormalizationState();
    private int records;
    private int unscorable;

    /**
     * @param ensemble scores {@code generations} records; may be {@code null} when only {@code scored} records come
     * @param gold     the synthetic world's gold reward, or {@code null}
     */
    public GenerationEvaluator(RewardEnsemble ensemble, GoldReward gold) {
        this.ensemble = ensemble;
        this.gold = gold;
    }

    /** Adds {@code scored} records: their reward, and each source's raw score at its model version. */
    public void addScored(List<ScoredGeneration> batch) {
        for (ScoredGeneration s : batch) {
            Generation g = s.getGeneration();
            double goldReward = gold(g);
            records++;
            policies.add(g.getPolicyName(), g.getPolicyVersion(), s.getReward(), goldReward,
                    g.getResponseTokens().size());
            rms.generation(g.getPromptId(), g.getGenerationId(), goldReward);
            for (SourceScore score : s.getScores()) {
                Long version = score.getModel() == null ? null : score.getModel().getVersion();
                rms.score(score.getScorer(), version, g.getGenerationId(), score.getRaw());
            }
        }
    }

    /**
     * Scores {@code generations} records with the ensemble and adds them.
     *
     * @throws IllegalStateException when no ensemble was given
     */
    public void addGenerations(List<Generation> batch) {
        if (batch.isEmpty()) {
            return;
        }
        if (ensemble == null) {
            throw new IllegalStateException("replaying generations needs at least one --reward SPEC to score them");
        }
        List<ScoringInput> inputs = new ArrayList<>(batch.size());
        batch.forEach(g -> inputs.add(ScoringInput.of(g)));
        List<ScoringOutcome> outcomes = ensemble.score(inputs, state);
        for (int i = 0; i < batch.size(); i++) {
            Generation g = batch.get(i);
            ScoringOutcome outcome = outcomes.get(i);
            double goldReward = gold(g);
            records++;
            rms.generation(g.getPromptId(), g.getGenerationId(), goldReward);
            if (!outcome.scored()) {
                unscorable++;
                policies.add(g.getPolicyName(), g.getPolicyVersion(), Double.NaN, goldReward,
                        g.getResponseTokens().size());
                continue;
            }
            policies.add(g.getPolicyName(), g.getPolicyVersion(), outcome.score().reward(), goldReward,
                    g.getResponseTokens().size());
            for (SourceResult r : outcome.score().scores()) {
                Long version = r.model() == null ? null : r.model().getVersion();
                rms.score(r.scorer(), version, g.getGenerationId(), r.raw());
            }
        }
    }

    private double gold(Generation g) {
        if (gold == null) {
            return Double.NaN;
        }
        return gold.scoreIds(toArray(g.getPromptTokens()), toArray(g.getResponseTokens())).total();
    }

    private static int[] toArray(List<Integer> tokens) {
        int[] out = new int[tokens.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = tokens.get(i);
        }
        return out;
    }

    /** Records added so far. */
    public int records() {
        return records;
    }

    /** Generations the ensemble could not score. */
    public int unscorable() {
        return unscorable;
    }

    public PolicyComparison policyComparison() {
        return policies.build();
    }

    public RmComparison rmComparison() {
        return rms.build();
    }
}
