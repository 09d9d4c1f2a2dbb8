package io.streamrlhf.rewardstream.scoring;

import io.streamrlhf.schemas.avro.ModelRef;
import io.streamrlhf.schemas.avro.ScoreSource;
import io.streamrlhf.schemas.avro.SourceScore;

/**
 * One source's verdict on one input.
 *
 * @param scorer     the source's name
 * @param kind       the source's kind
 * @param model      the model version that scored, or {@code null} for rules
 * @param raw        the raw score
 * @param normalised the score after normalisation (equal to raw when normalisation is off)
 */
public record SourceResult(String scorer, ScoreSource kind, ModelRef model, double raw, double normalised) {

    /** The Avro form for {@code ScoredGeneration.scores}. */
    public SourceScore toAvro() {
        return SourceScore.newBuilder().setScorer(scorer).setSource(kind)
                .setModel(model == null ? null : ModelRef.newBuilder(model).build())
                .setRaw(raw).setNormalised(normalised).build();
    }
}
