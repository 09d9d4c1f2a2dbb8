package io.streamrlhf.rewardstream.scoring.verify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaException;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.streamrlhf.schemas.verify.VerifierSpec;
import java.math.BigDecimal;
import java.text.Normalizer;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a response against reference answers as a {@link VerifierSpec} says: extract the answer, then compare it
 * with each reference (any one passing is a pass). Thread-safe; JSON schemas are compiled once and cached.
 */
public final class Verifier {

    /** Most distinct JSON schemas kept compiled; past it the cache is cleared (prompts rarely carry many). */
    private static final int SCHEMA_CACHE = 256;
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /**
     * A prompt's schema is untrusted input, so its {@code $ref}s are never fetched: the library's default already
     * leaves remote IRIs alone, and saying so here keeps a later default from turning the scorer into a fetcher.
     */
    private static final SchemaRegistry SCHEMAS = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12,
            builder -> builder.schemaLoader(loader -> loader.fetchRemoteResources(false)));
    private static final Pattern NUMBER = Pattern.compile(
            "[-+]?(?:\\d{1,3}(?:,\\d{3})+|\\d+)?(?:\\.\\d+)?(?:[eE][-+]?\\d+)?(?:\\s*/\\s*\\d+)?%?");
    private static final Pattern NUMBER_IN_TEXT = Pattern.compile(
            "[-+]?(?:\\d{1,3}(?:,\\d{3})+|\\d+)(?:\\.\\d+)?(?:[eE][-+]?\\d+)?(?:\\s*/\\s*\\d+)?%?");
    private static final Pattern ARTICLES = Pattern.compile("\\b(a|an|the)\\b");
    private static final Pattern PUNCTUATION = Pattern.compile("[\\p{P}\\p{S}]");
    private static final Pattern SPACES = Pattern.compile("\\s+");

    private final VerifierSpec spec;
    private final Pattern pattern;
    private final ConcurrentHashMap<String, Schema> schemas = new ConcurrentHashMap<>();

    /** A verifier for {@code spec}. */
    public Verifier(VerifierSpec spec) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.pattern = spec.pattern();
    }

    /** The spec this verifier applies. */
    public VerifierSpec spec() {
        return spec;
    }

    /**
     * Checks one response.
     *
     * @param references the prompt's reference answers; may be empty only for {@code json-schema}
     * @return whether it passed, and why not
     * @throws IllegalArgumentException when the verifier cannot judge: no reference where one is needed, a reference
     *                                  that is not a number for {@code numeric}, or not a JSON schema
     */
    public Verdict check(String response, List<String> references) {
        if (references.isEmpty() && !spec.kind().equals("json-schema")) {
            throw new IllegalArgumentException("verifier " + spec + " needs a reference answer and the prompt has none");
        }
        String answer = extract(response);
        if (answer == null) {
            return Verdict.fail("no answer to extract (extract=" + spec.extract() + ")");
        }
        return switch (spec.kind()) {
            case "exact" -> matchAny(answer.strip(), references.stream().map(String::strip).toList(), answer);
            case "normalised" -> matchAny(normalise(answer), references.stream().map(Verifier::normalise).toList(),
                    answer);
            case "numeric" -> numeric(answer, references);
            case "json-schema" -> jsonSchema(answer, references);
            default -> throw new IllegalStateException("unknown verifier kind " + spec.kind());
        };
    }

    /** The part of {@code response} that is the answer, or {@code null} when there is none. */
    String extract(String response) {
        switch (spec.extract()) {
            case "all" -> {
                return response;
            }
            case "boxed" -> {
                return lastBoxed(response);
            }
            case "last-line" -> {
                String[] lines = response.split("\\R");
                for (int i = lines.length - 1; i >= 0; i--) {
                    if (!lines[i].isBlank()) {
                        return lines[i];
                    }
                }
                return null;
            }
            case "last-number" -> {
                Matcher m = NUMBER_IN_TEXT.matcher(response);
                String last = null;
                while (m.find()) {
                    last = m.group();
                }
                return last;
            }
            case "pattern" -> {
                Matcher m = pattern.matcher(response);
                String last = null;
                while (m.find()) {
                    last = m.groupCount() >= 1 && m.group(1) != null ? m.group(1) : m.group();
                }
                return last;
            }
            default -> throw new IllegalStateException("unknown extraction " + spec.extract());
        }
    }

    /** The content of the last {@code \boxed{...}}, braces balanced; {@code null} when there is none or it is open. */
    static String lastBoxed(String text) {
        int start = text.lastIndexOf("\\boxed{");
        if (start < 0) {
            return null;
        }
        int depth = 0;
        int from = start + "\\boxed{".length();
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '{') {
                depth++;
            } else if (c == '}') {
                if (depth == 0) {
                    return text.substring(from, i);
                }
                depth--;
            }
        }
        return null;
    }

    /** SQuAD's answer normalisation, after Unicode NFKC: lower case, no punctuation, no articles, single spaces. */
    static String normalise(String text) {
        String s = Normalizer.normalize(text, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
        s = PUNCTUATION.matcher(s).replaceAll(" ");
        s = ARTICLES.matcher(s).replaceAll(" ");
        return SPACES.matcher(s).replaceAll(" ").strip();
    }

    /**
     * A number as people write it: optional sign, thousands commas, decimals, exponent, a fraction {@code a/b} or a
     * trailing percent (50% is 0.5); {@code null} when {@code text} is not one number.
     */
    static Double parseNumber(String text) {
        String s = text.strip().replace("$", "");
        if (s.endsWith(".")) {
            s = s.substring(0, s.length() - 1);
        }
        if (s.isEmpty() || !NUMBER.matcher(s).matches() || !s.matches(".*\\d.*")) {
            return null;
        }
        boolean percent = s.endsWith("%");
        if (percent) {
            s = s.substring(0, s.length() - 1).strip();
        }
        s = s.replace(",", "");
        double value;
        int slash = s.indexOf('/');
        try {
            if (slash >= 0) {
                double den = new BigDecimal(s.substring(slash + 1).strip()).doubleValue();
                if (den == 0) {
                    return null;
                }
                value = new BigDecimal(s.substring(0, slash).strip()).doubleValue() / den;
            } else {
                value = new BigDecimal(s).doubleValue();
            }
        } catch (NumberFormatException e) {
            return null;
        }
        return percent ? value / 100 : value;
    }

    private Verdict numeric(String answer, List<String> references) {
        Double got = parseNumber(answer);
        if (got == null) {
            return Verdict.fail("answer '" + shorten(answer) + "' is not a number");
        }
        double tolerance = spec.number("tolerance", 1e-6);
        double relative = spec.number("relative", 0);
        for (String reference : references) {
            Double want = parseNumber(reference);
            if (want == null) {
                throw new IllegalArgumentException("verifier " + spec + ": reference answer '" + shorten(reference)
                        + "' is not a number");
            }
            if (Math.abs(got - want) <= Math.max(tolerance, relative * Math.abs(want))) {
                return Verdict.PASS;
            }
        }
        return Verdict.fail("answer " + got + " is not within tolerance of " + references);
    }

    private Verdict jsonSchema(String answer, List<String> references) {
        JsonNode node;
        try {
            node = JSON.readTree(answer.strip());
        } catch (JsonProcessingException e) {
            return Verdict.fail("answer is not JSON: " + e.getOriginalMessage());
        }
        if (node == null || node.isMissingNode()) {
            return Verdict.fail("answer is empty, not JSON");
        }
        if (references.isEmpty()) {
            return Verdict.PASS;
        }
        List<Error> errors = schema(references.get(0)).validate(node);
        return errors.isEmpty() ? Verdict.PASS : Verdict.fail("JSON does not match the schema: "
                + errors.get(0).getMessage() + (errors.size() > 1 ? " (and " + (errors.size() - 1) + " more)" : ""));
    }

    private Schema schema(String text) {
        Schema cached = schemas.get(text);
        if (cached != null) {
            return cached;
        }
        Schema compiled;
        try {
            JSON.readTree(text);
            compiled = SCHEMAS.getSchema(text);
        } catch (JsonProcessingException | SchemaException e) {
            throw new IllegalArgumentException("verifier " + spec + ": reference answer is not a JSON schema: "
                    + e.getMessage(), e);
        }
        if (schemas.size() >= SCHEMA_CACHE) {
            schemas.clear();
        }
        schemas.put(text, compiled);
        return compiled;
    }

    private static Verdict matchAny(String answer, List<String> references, String raw) {
        return references.contains(answer) ? Verdict.PASS
                : Verdict.fail("answer '" + shorten(raw) + "' matches no reference");
    }

    private static String shorten(String text) {
        String s = text.strip();
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    /**
     * A verifier's judgement.
     *
     * @param passed whether the response passed
     * @param reason why it failed; empty when it passed
     */
    public record Verdict(boolean passed, String reason) {
        /** A pass. */
        public static final Verdict PASS = new Verdict(true, "");

        /** A failure for {@code reason}. */
        public static Verdict fail(String reason) {
            return new Verdict(false, reason);
        }
    }
}
