package io.streamrlhf.rewardstream.scoring.rules;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import java.io.IOException;
import java.util.Locale;

/**
 * {@code rule:format}: 1 when the response passes a format check, else {@code penalty} (default 0).
 */
public final class FormatRule extends RuleSource {

    /** The checks. */
    public enum Check {
        /** Some non-whitespace text. */
        NONEMPTY,
        /** Ends (after trailing spaces) with . ! ? or a closing quote or bracket after one of them. */
        TERMINAL_PUNCTUATION,
        /** No word immediately repeated ("the the"), a degenerate-sampling symptom. */
        NO_REPEATED_WORDS,
        /** The whole response is one well-formed JSON value. */
        JSON,
        /** At most {@code max} code points. */
        MAX_CHARS;

        /** Parses e.g. {@code terminal-punctuation}. */
        public static Check parse(String text) {
            try {
                return valueOf(text.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown format check '" + text + "'; expected nonempty, "
                        + "terminal-punctuation, no-repeated-words, json or max-chars", e);
            }
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Check check;
    private final long max;
    private final double penalty;

    public FormatRule(String name, Check check, long max, double penalty) {
        super(name, 1);
        if (check == Check.MAX_CHARS && max < 0) {
            throw new IllegalArgumentException("rule:format check=max-chars needs max=N (N >= 0)");
        }
        this.check = check;
        this.max = max;
        this.penalty = penalty;
    }

    @Override
    protected double scoreOne(ScoringInput input) {
        return passes(input.responseText()) ? 1.0 : penalty;
    }

    boolean passes(String text) {
        return switch (check) {
            case NONEMPTY -> !text.isBlank();
            case TERMINAL_PUNCTUATION -> text.strip().matches("(?s).*[.!?][\"'\\)\\]\u201d\u2019]*");
            case NO_REPEATED_WORDS -> !hasRepeat(text);
            case JSON -> isJson(text);
            case MAX_CHARS -> text.codePointCount(0, text.length()) <= max;
        };
    }

    private static boolean hasRepeat(String text) {
        String previous = null;
        for (String word : text.toLowerCase(Locale.ROOT).split("\\s+")) {
            if (word.isEmpty()) {
                continue;
            }
            if (word.equals(previous)) {
                return true;
            }
            previous = word;
        }
        return false;
    }

    private static boolean isJson(String text) {
        try (JsonParser parser = JSON.createParser(text)) {
            JSON.readTree(parser);
            return parser.nextToken() == null && !text.isBlank();
        } catch (IOException e) {
            return false;
        }
    }
}
