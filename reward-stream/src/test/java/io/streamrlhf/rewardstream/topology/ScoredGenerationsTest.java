package io.streamrlhf.rewardstream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.rewardstream.Fixtures;
import io.streamrlhf.rewardstream.scoring.Aggregation;
import io.streamrlhf.rewardstream.scoring.EnsembleScore;
import io.streamrlhf.rewardstream.scoring.SourceResult;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.ScoreSource;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScoredGenerationsTest {

    @Test
    void carriesTheGenerationEverySourcesScoreTheEnsemblesSummaryAndTheReference() {
        Generation g = Fixtures.generation("g1", "p1", "hello there");
        Aggregation aggregation = Aggregation.values()[0];
        EnsembleScore score = new EnsembleScore(List.of(
                new SourceResult("rule-length", ScoreSource.RULE_BASED, null, 11.0, 0.5),
                new SourceResult("rule-other", ScoreSource.RULE_BASED, null, 2.0, -0.5)),
                0.0, 0.5, -0.5, aggregation, 0.25);
        Instant at = Instant.ofEpochMilli(1234);

        ScoredGeneration out = ScoredGenerations.of(g, score, at, new float[] {-1f, -2f}, "sha256:ref");

        assertThat(out.getGeneration()).isEqualTo(g);
        assertThat(out.getScores()).extracting(s -> s.getScorer() + "=" + s.getRaw() + "/" + s.getNormalised())
                .containsExactly("rule-length=11.0/0.5", "rule-other=2.0/-0.5");
        assertThat(out.getEnsembleMean()).isEqualTo(0.0);
        assertThat(out.getEnsembleStd()).isEqualTo(0.5);
        assertThat(out.getEnsembleMin()).isEqualTo(-0.5);
        assertThat(out.getAggregation()).isEqualTo(aggregation.wireName());
        assertThat(out.getReward()).isEqualTo(0.25);
        assertThat(out.getScoredAt()).isEqualTo(at);
        assertThat(out.getReferenceLogprobs()).containsExactly(-1f, -2f);
        assertThat(out.getReferenceModel()).isEqualTo("sha256:ref");

        ScoredGeneration without = ScoredGenerations.of(g, score, at, null, "sha256:ref");
        assertThat(without.getReferenceLogprobs()).isNull();
        assertThat(without.getReferenceModel()).as("no model without its log-probs").isNull();
    }
}
