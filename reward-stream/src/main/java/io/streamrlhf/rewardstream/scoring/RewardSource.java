package io.streamrlhf.rewardstream.scoring;

import io.streamrlhf.schemas.avro.ModelRef;
import io.streamrlhf.schemas.avro.ScoreSource;
import java.util.List;

/**
 * A scorer of responses: a name unique in its ensemble, a kind, a version recorded with every score, and batched
 * scoring. Implementations are thread-safe: a stream with several threads shares one instance.
 */
public interface RewardSource extends AutoCloseable {

    /** Name of this scorer within its ensemble, e.g. {@code rm-0} or {@code rule-length}. */
    String name();

    /** What kind of scorer this is (recorded in {@code SourceScore.source}). */
    ScoreSource kind();

    /** The version of the model or rule that scores now; changes when a reward model is hot-swapped. */
    long version();

    /**
     * The model version recorded in each score ({@code SourceScore.model}), or {@code null} for rules, which have no
     * published versions.
     */
    default ModelRef modelRef() {
        return null;
    }

    /**
     * Scores a batch in one pass.
     *
     * @return one raw score per input, in input order; {@code NaN} or an infinity marks an input this source
     *         could not score (the ensemble dead-letters it or scores it without this source, as configured)
     * @throws SourceUnavailableException when the source can score none of the batch (a judge that is down)
     */
    double[] score(List<ScoringInput> batch);

    /** Releases models, clients and threads. */
    @Override
    default void close() {
    }
}
