package io.streamrlhf.rewardstream.scoring.rules;

import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.schemas.avro.ScoreSource;
import java.util.List;

/** Base of the rules: a per-input function applied to a batch, kind {@link ScoreSource#RULE_BASED}. */
public abstract class RuleSource implements RewardSource {
    private final String name;
    private final long version;

    protected RuleSource(String name, long version) {
        this.name = name;
        this.version = version;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final ScoreSource kind() {
        return ScoreSource.RULE_BASED;
    }

    @Override
    public final long version() {
        return version;
    }

    @Override
    public final double[] score(List<ScoringInput> batch) {
        double[] out = new double[batch.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = scoreOne(batch.get(i));
        }
        return out;
    }

    /** The score of one input. */
    protected abstract double scoreOne(ScoringInput input);
}
