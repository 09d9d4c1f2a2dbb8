package io.streamrlhf.rewardstream.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.rewardstream.scoring.rules.FormatRule;
import io.streamrlhf.rewardstream.scoring.rules.LengthRule;
import io.streamrlhf.rewardstream.scoring.rules.PatternRule;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class RulesTest {
    private static double one(RewardSource s, String text) {
        return s.score(List.of(ScoringInput.of("x", "prompt", text)))[0];
    }

    @Test
    void lengthCountsUnicodeCodePointsNotUtf16Units() {
        LengthRule rule = new LengthRule("len", 1.0);
        assertThat(one(rule, "")).isZero();
        assertThat(one(rule, "hello")).isEqualTo(5.0);
        assertThat(one(rule, "\uD83D\uDE00\uD83D\uDE00")).as("two emoji, four UTF-16 units").isEqualTo(2.0);
        assertThat(one(rule, "日本語")).isEqualTo(3.0);
        assertThat(one(rule, "e\u0301")).as("a combining accent is its own code point").isEqualTo(2.0);
        assertThat(one(new LengthRule("len", -0.1), "abcd")).isEqualTo(-0.4, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(rule.kind().name()).isEqualTo("RULE_BASED");
        assertThat(rule.modelRef()).isNull();
    }

    @Test
    void keywordsMatchWholeWordsCaseInsensitively() {
        PatternRule count = PatternRule.keywords("kw", List.of("sun", "rain"), 1.5, true);
        assertThat(one(count, "Sun and rain, then SUN again; sunny is not sun-dried")).isEqualTo(1.5 * 4);
        PatternRule any = PatternRule.keywords("kw", List.of("sun"), -2, false);
        assertThat(one(any, "sun sun sun")).isEqualTo(-2.0);
        assertThat(one(any, "sunny")).isZero();
    }

    @Test
    void regexCountsMatches() {
        PatternRule digits = new PatternRule("re", Pattern.compile("\\d+"), 1, true);
        assertThat(one(digits, "1 and 22 and 333")).isEqualTo(3.0);
    }

    @Test
    void formatChecks() {
        assertThat(one(new FormatRule("f", FormatRule.Check.NONEMPTY, -1, 0), "  \n")).isZero();
        assertThat(one(new FormatRule("f", FormatRule.Check.NONEMPTY, -1, 0), " a")).isEqualTo(1.0);
        FormatRule punct = new FormatRule("f", FormatRule.Check.TERMINAL_PUNCTUATION, -1, -1);
        assertThat(one(punct, "It is calm.  ")).isEqualTo(1.0);
        assertThat(one(punct, "\"Really?\"")).isEqualTo(1.0);
        assertThat(one(punct, "no end")).isEqualTo(-1.0);
        FormatRule repeats = new FormatRule("f", FormatRule.Check.NO_REPEATED_WORDS, -1, 0);
        assertThat(one(repeats, "the the ocean")).isZero();
        assertThat(one(repeats, "the ocean the")).isEqualTo(1.0);
        FormatRule json = new FormatRule("f", FormatRule.Check.JSON, -1, 0);
        assertThat(one(json, "[1, 2]")).isEqualTo(1.0);
        assertThat(one(json, "{\"a\": 1} trailing")).isZero();
        assertThat(one(json, "{broken")).isZero();
        FormatRule max = new FormatRule("f", FormatRule.Check.MAX_CHARS, 3, 0);
        assertThat(one(max, "abc")).isEqualTo(1.0);
        assertThat(one(max, "\uD83D\uDE00\uD83D\uDE00\uD83D\uDE00")).isEqualTo(1.0);
        assertThat(one(max, "abcd")).isZero();
    }
}
