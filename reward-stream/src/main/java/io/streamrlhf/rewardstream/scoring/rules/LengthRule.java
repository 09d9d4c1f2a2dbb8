package io.streamrlhf.rewardstream.scoring.rules;

import io.streamrlhf.rewardstream.scoring.ScoringInput;

/**
 * {@code rule:length}: the number of Unicode code points of the response text (so an emoji or a CJK character
 * counts once, unlike {@code String.length()}), times {@code scale}.
 */
public final class LengthRule extends RuleSource {
    private final double scale;

    public LengthRule(String name, double scale) {
        super(name, 1);
        if (!Double.isFinite(scale)) {
            throw new IllegalArgumentException("rule:length scale must be finite, got " + scale);
        }
        this.scale = scale;
    }

    @Override
    protected double scoreOne(ScoringInput input) {
        String text = input.responseText();
        return scale * text.codePointCount(0, text.length());
    }
}
