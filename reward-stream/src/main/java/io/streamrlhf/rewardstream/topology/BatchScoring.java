package io.streamrlhf.rewardstream.topology;

import io.streamrlhf.rewardstream.scoring.NormalizationState;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.rewardstream.scoring.ScoringOutcome;
import io.streamrlhf.rewardstream.scoring.model.ReferencePolicy;
import io.streamrlhf.schemas.avro.Generation;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scoring one micro-batch, the work of the scorer thread (or of the stream thread without pipelining): the ensemble
 * scores and normalises the generations, then the reference policy, if there is one, computes the log-probs of their
 * responses. Touches no Kafka Streams state: what it gives back is forwarded by the stream thread.
 */
final class BatchScoring implements Callable<BatchScoring.Scored> {
    private static final Logger LOG = LoggerFactory.getLogger(BatchScoring.class);

    private final String taskKey;
    private final List<Generation> batch;
    private final RewardEnsemble ensemble;
    private final SharedNormalization.BatchStatistics statistics;
    private final ReferencePolicy reference;

    /**
     * @param taskKey    the task, for the log
     * @param batch      the generations, in input order (not changed afterwards)
     * @param statistics the statistics the batch is normalised with
     * @param reference  the frozen reference policy, or {@code null}
     */
    BatchScoring(String taskKey, List<Generation> batch, RewardEnsemble ensemble,
                 SharedNormalization.BatchStatistics statistics, ReferencePolicy reference) {
        this.taskKey = taskKey;
        this.batch = batch;
        this.ensemble = ensemble;
        this.statistics = statistics;
        this.reference = reference;
    }

    @Override
    public Scored call() {
        long start = System.nanoTime();
        List<ScoringInput> inputs = new ArrayList<>(batch.size());
        for (Generation g : batch) {
            inputs.add(ScoringInput.of(g));
        }
        NormalizationState state = statistics.begin();
        List<ScoringOutcome> outcomes = ensemble.score(inputs, state);
        statistics.end(state);
        long scoredNanos = System.nanoTime();
        return new Scored(outcomes, state, scoredNanos - start, referenceLogprobs(), System.nanoTime() - scoredNanos);
    }

    /**
     * The reference policy's log-probs of each generation's response, or {@code null} without a reference or when
     * the batch does not fit it; the learner then runs its own reference, so nothing is lost but time.
     */
    private float[][] referenceLogprobs() {
        if (reference == null) {
            return null;
        }
        try {
            return reference.logprobs(batch);
        } catch (RuntimeException e) {
            LOG.warn("task {}: no reference log-probs for a micro-batch of {} generations (the learner will compute "
                    + "them): {}", taskKey, batch.size(), e.toString());
            return null;
        }
    }

    /**
     * What scoring a batch gave: one outcome per record, the statistics after it, the time it took, and the reference
     * policy's log-probs of each record's response with their time ({@code null} without them).
     */
    record Scored(List<ScoringOutcome> outcomes, NormalizationState state, long ensembleNanos,
                  float[][] reference, long referenceNanos) {
    }
}
