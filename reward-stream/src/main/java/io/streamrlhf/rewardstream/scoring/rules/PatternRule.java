package io.streamrlhf.rewardstream.scoring.rules;

import io.streamrlhf.rewardstream.scoring.ScoringInput;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * {@code rule:keyword} and {@code rule:regex}: {@code weight} times the number of matches in the response
 * ({@code mode=count}), or {@code weight} when there is at least one ({@code mode=any}). A negative weight makes a
 * penalty (banned words).
 */
public final class PatternRule extends RuleSource {
    private final Pattern pattern;
    private final double weight;
    private final boolean countAll;

    public PatternRule(String name, Pattern pattern, double weight, boolean countAll) {
        super(name, 1);
        this.pattern = pattern;
        this.weight = weight;
        this.countAll = countAll;
    }

    /** Whole-word, case-insensitive matches of any of {@code words}. */
    public static PatternRule keywords(String name, List<String> words, double weight, boolean countAll) {
        if (words.isEmpty()) {
            throw new IllegalArgumentException("rule:keyword needs words=a|b|...");
        }
        String alternatives = words.stream().map(Pattern::quote).collect(Collectors.joining("|"));
        Pattern p = Pattern.compile("(?<![\\p{L}\\p{N}])(?:" + alternatives + ")(?![\\p{L}\\p{N}])",
                Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
        return new PatternRule(name, p, weight, countAll);
    }

    @Override
    protected double scoreOne(ScoringInput input) {
        Matcher m = pattern.matcher(input.responseText());
        int count = 0;
        while (m.find()) {
            count++;
            if (!countAll) {
                break;
            }
        }
        return weight * count;
    }
}
