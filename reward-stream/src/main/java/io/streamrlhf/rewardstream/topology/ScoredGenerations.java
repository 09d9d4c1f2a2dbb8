package io.streamrlhf.rewardstream.topology;

import io.streamrlhf.rewardstream.scoring.EnsembleScore;
import io.streamrlhf.rewardstream.scoring.SourceResult;
import io.streamrlhf.schemas.AvroArrays;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.avro.SourceScore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Builds the {@code ScoredGeneration} records the reward stream writes to {@code scored}. */
public final class ScoredGenerations {

    private ScoredGenerations() {
    }

    /**
     * A generation with the ensemble's score.
     *
     * @param referenceLogprobs the reference policy's log-probs of its response, or {@code null}
     * @param referenceModel    the reference's id ({@code null} without log-probs)
     */
    public static ScoredGeneration of(Generation generation, EnsembleScore score, Instant scoredAt,
                               float[] referenceLogprobs, String referenceModel) {
        List<SourceScore> scores = new ArrayList<>(score.scores().size());
        for (SourceResult r : score.scores()) {
            scores.add(r.toAvro());
        }
        return ScoredGeneration.newBuilder()
                .setGeneration(generation)
                .setScores(scores)
                .setEnsembleMean(score.mean())
                .setEnsembleStd(score.std())
                .setEnsembleMin(score.min())
                .setAggregation(score.aggregation().wireName())
                .setReward(score.reward())
                .setScoredAt(scoredAt)
                .setReferenceLogprobs(referenceLogprobs == null ? null : AvroArrays.ofFloats(referenceLogprobs))
                .setReferenceModel(referenceLogprobs == null ? null : referenceModel)
                .build();
    }
}
