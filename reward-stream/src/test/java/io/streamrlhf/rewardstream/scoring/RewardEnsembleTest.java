package io.streamrlhf.rewardstream.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.streamrlhf.rewardstream.Fixtures.FunctionSource;
import io.streamrlhf.schemas.avro.ScoreSource;
import java.util.List;
import org.junit.jupiter.api.Test;

class RewardEnsembleTest {
    private static final List<ScoringInput> TWO = List.of(ScoringInput.of("a", "p", "aa"), ScoringInput.of("b", "p", "bbbb"));

    /** A source that is always down. */
    private static RewardSource down() {
        return new FunctionSource("down", in -> 0) {
            @Override
            public double[] score(List<ScoringInput> batch) {
                throw new SourceUnavailableException("down", "connection refused", null);
            }
        };
    }

    @Test
    void statisticsAbsorbTheBatchBeforeNormalisingIt() {
        RewardEnsemble e = RewardEnsemble.builder().add(new FunctionSource("len", in -> in.responseText().length()))
                .normalization(new NormalizationSettings(true, 0, 1e-8)).build();
        NormalizationState state = new NormalizationState();
        List<ScoringOutcome> out = e.score(TWO, state);
        // values 2 and 4: mean 3, variance 1
        assertThat(out.get(0).score().scores().get(0).normalised()).isCloseTo(-1.0, within(1e-6));
        assertThat(out.get(1).score().reward()).isCloseTo(1.0, within(1e-6));
        assertThat(state.version()).isEqualTo(1);
        assertThat(state.get("len").count()).isEqualTo(2);
    }

    @Test
    void anUnavailableSourceDeadLettersTheBatchOrIsSkipped() {
        RewardEnsemble dlq = RewardEnsemble.builder().add(new FunctionSource("one", in -> 1)).add(down())
                .normalization(NormalizationSettings.OFF).build();
        List<ScoringOutcome> failed = dlq.score(TWO, new NormalizationState());
        assertThat(failed).noneMatch(ScoringOutcome::scored);
        assertThat(failed.get(0).error()).hasMessageContaining("'down' is unavailable: connection refused")
                .hasCauseInstanceOf(SourceUnavailableException.class);

        RewardEnsemble skip = RewardEnsemble.builder().add(new FunctionSource("one", in -> 1)).add(down())
                .onSourceFailure(SourceFailurePolicy.SKIP).normalization(NormalizationSettings.OFF).build();
        NormalizationState state = new NormalizationState();
        List<ScoringOutcome> scored = skip.score(TWO, state);
        assertThat(scored).allMatch(ScoringOutcome::scored);
        assertThat(scored.get(0).score().scores()).extracting(SourceResult::scorer).containsExactly("one");
        assertThat(state.get("down").count()).isZero();

        RewardEnsemble nothingLeft = RewardEnsemble.builder().add(down()).onSourceFailure(SourceFailurePolicy.SKIP)
                .build();
        assertThat(nothingLeft.score(TWO, new NormalizationState())).noneMatch(ScoringOutcome::scored);
    }

    @Test
    void unscorableInputsDoNotMoveTheStatistics() {
        RewardEnsemble e = RewardEnsemble.builder()
                .add(new FunctionSource("len", in -> in.responseText().length()))
                .add(new FunctionSource("nan", in -> in.id().equals("a") ? Double.NaN : 0)).build();
        NormalizationState state = new NormalizationState();
        List<ScoringOutcome> out = e.score(TWO, state);
        assertThat(out.get(0).scored()).isFalse();
        assertThat(out.get(1).scored()).isTrue();
        assertThat(state.get("len").count()).isEqualTo(1);
        assertThat(state.get("len").mean()).isEqualTo(4.0);
    }

    @Test
    void rawScoresForTheEvaluator() {
        RewardEnsemble e = RewardEnsemble.builder().add(new FunctionSource("len", in -> in.responseText().length()))
                .add(new FunctionSource("neg", in -> -1)).build();
        double[][] raw = e.scoreRaw(TWO);
        assertThat(raw[0]).containsExactly(2.0, 4.0);
        assertThat(raw[1]).containsExactly(-1.0, -1.0);
    }

    @Test
    void builderChecksItsInput() {
        assertThatThrownBy(() -> RewardEnsemble.builder().build()).hasMessageContaining("at least one");
        assertThatThrownBy(() -> RewardEnsemble.builder().add(new FunctionSource("a", in -> 0))
                .add(new FunctionSource("a", in -> 0)).build()).hasMessageContaining("two reward sources are named 'a'");
        assertThatThrownBy(() -> RewardEnsemble.builder().add(new FunctionSource("a", in -> 0)).k(-1).build())
                .hasMessageContaining("k of mean_minus_k_std");
        assertThat(Aggregation.parse("Mean-Minus-K-Std")).isEqualTo(Aggregation.MEAN_MINUS_K_STD);
        assertThatThrownBy(() -> Aggregation.parse("median")).hasMessageContaining("unknown aggregation 'median'");
        assertThat(new FunctionSource("a", in -> 0).kind()).isEqualTo(ScoreSource.RULE_BASED);
    }

    @Test
    void aSourceReturningTheWrongNumberOfScoresIsAnError() {
        RewardSource broken = new FunctionSource("short", in -> 0) {
            @Override
            public double[] score(List<ScoringInput> batch) {
                return new double[1];
            }
        };
        assertThatThrownBy(() -> RewardEnsemble.builder().add(broken).build().scoreRaw(TWO))
                .hasMessageContaining("returned 1 scores for a batch of 2");
    }
}
