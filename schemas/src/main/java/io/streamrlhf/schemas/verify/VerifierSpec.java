package io.streamrlhf.schemas.verify;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * How a response is checked against a prompt's reference answers, written {@code KIND[;key=value]...}: the form of
 * {@code Prompt.verifier} and of the scorer's {@code verify:KIND[;...]} reward source.
 *
 * <table>
 *   <caption>Kinds</caption>
 *   <tr><td>{@code exact}</td><td>the answer equals a reference (surrounding whitespace ignored)</td></tr>
 *   <tr><td>{@code normalised}</td><td>equal after Unicode NFKC, lower case, punctuation and the articles a/an/the
 *       removed and whitespace collapsed (SQuAD's answer normalisation); {@code normalized} is accepted too</td></tr>
 *   <tr><td>{@code numeric}</td><td>the answer's number is within {@code tolerance} (absolute, default 1e-6) or
 *       {@code relative} (relative, default 0) of a reference number; accepts 1,234.5, -3, 2e3, 3/4 and 50%</td></tr>
 *   <tr><td>{@code json-schema}</td><td>the answer is JSON that the first reference (a JSON schema) accepts; with no
 *       reference, any well-formed JSON passes</td></tr>
 * </table>
 *
 * <p>Every kind takes {@code extract}: which part of the response is the answer — {@code all} (default, the whole
 * response), {@code boxed} (the content of the last {@code \boxed{...}}), {@code last-line} (the last non-blank
 * line), {@code last-number} (the last number in the text) or {@code pattern} with {@code pattern=REGEX} (the last
 * match's first group, or the whole match when the pattern has no group). A response with nothing to extract fails.
 *
 * @param kind    one of {@link #KINDS}
 * @param options the {@code key=value} options, in order
 */
public record VerifierSpec(String kind, Map<String, String> options) {

    /** The verifier kinds. */
    public static final Set<String> KINDS = Set.of("exact", "normalised", "numeric", "json-schema");
    /** The answer extractions. */
    public static final Set<String> EXTRACTIONS = Set.of("all", "boxed", "last-line", "last-number", "pattern");

    private static final Map<String, Set<String>> OPTIONS = Map.of(
            "exact", Set.of("extract", "pattern"),
            "normalised", Set.of("extract", "pattern"),
            "numeric", Set.of("extract", "pattern", "tolerance", "relative"),
            "json-schema", Set.of("extract", "pattern"));

    /** Checks the parts. */
    public VerifierSpec {
        Objects.requireNonNull(kind, "kind");
        options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    /**
     * Parses and checks a spec: a known kind, known options, a known extraction, numbers where numbers belong and a
     * pattern that compiles.
     *
     * @throws IllegalArgumentException naming the spec and what is wrong with it
     */
    public static VerifierSpec parse(String spec) {
        Objects.requireNonNull(spec, "spec");
        String[] parts = spec.trim().split(";", -1);
        String kind = parts[0].trim().toLowerCase(Locale.ROOT);
        if (kind.equals("normalized")) {
            kind = "normalised";
        }
        if (!KINDS.contains(kind)) {
            throw new IllegalArgumentException("verifier '" + spec + "': unknown kind '" + parts[0].trim()
                    + "'; expected one of exact, normalised, numeric, json-schema");
        }
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 1; i < parts.length; i++) {
            String option = parts[i];
            if (option.isBlank()) {
                continue;
            }
            int eq = option.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("verifier '" + spec + "': option '" + option + "' is not key=value");
            }
            String key = option.substring(0, eq).trim();
            if (!OPTIONS.get(kind).contains(key)) {
                throw new IllegalArgumentException("verifier '" + spec + "': unknown option '" + key + "'; " + kind
                        + " takes " + String.join(", ", OPTIONS.get(kind).stream().sorted().toList()));
            }
            if (options.put(key, option.substring(eq + 1).trim()) != null) {
                throw new IllegalArgumentException("verifier '" + spec + "': option '" + key + "' given twice");
            }
        }
        VerifierSpec parsed = new VerifierSpec(kind, options);
        parsed.check(spec);
        return parsed;
    }

    /** The answer extraction ({@code all} when none is given). */
    public String extract() {
        return options.getOrDefault("extract", "all");
    }

    /** A numeric option, or {@code fallback}. */
    public double number(String key, double fallback) {
        String v = options.get(key);
        return v == null ? fallback : Double.parseDouble(v);
    }

    /** The extraction pattern, or {@code null} unless {@code extract=pattern}. */
    public Pattern pattern() {
        return extract().equals("pattern") ? Pattern.compile(options.get("pattern")) : null;
    }

    private void check(String spec) {
        if (!EXTRACTIONS.contains(extract())) {
            throw new IllegalArgumentException("verifier '" + spec + "': unknown extract '" + extract()
                    + "'; expected one of all, boxed, last-line, last-number, pattern");
        }
        if (extract().equals("pattern") != options.containsKey("pattern")) {
            throw new IllegalArgumentException("verifier '" + spec + "': extract=pattern and pattern=REGEX go together");
        }
        if (options.containsKey("pattern")) {
            try {
                Pattern.compile(options.get("pattern"));
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("verifier '" + spec + "': pattern does not compile: "
                        + e.getDescription());
            }
        }
        for (String key : new String[] {"tolerance", "relative"}) {
            String v = options.get(key);
            if (v == null) {
                continue;
            }
            double d;
            try {
                d = Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("verifier '" + spec + "': " + key + "=" + v + " is not a number");
            }
            if (!(d >= 0) || Double.isInfinite(d)) {
                throw new IllegalArgumentException("verifier '" + spec + "': " + key + "=" + v
                        + " must be a finite number >= 0");
            }
        }
    }

    /** The spec string again. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(kind);
        options.forEach((k, v) -> s.append(';').append(k).append('=').append(v));
        return s.toString();
    }
}
