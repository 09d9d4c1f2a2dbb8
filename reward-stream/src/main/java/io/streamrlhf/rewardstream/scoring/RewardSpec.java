package io.streamrlhf.rewardstream.scoring;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A reward source described by one string: {@code KIND:TARGET[;key=value]...}, the form {@code rlhf score}'s config
 * ({@code reward.sources}) and the evaluator's {@code --reward SPEC} take.
 *
 * <table>
 *   <caption>Kinds</caption>
 *   <tr><td>{@code rule:length}</td><td>Unicode code points of the response ({@code scale})</td></tr>
 *   <tr><td>{@code rule:keyword}</td><td>matches of {@code words=a|b|c} ({@code weight}, {@code mode=count|any})</td></tr>
 *   <tr><td>{@code rule:regex}</td><td>matches of {@code pattern=...} ({@code weight}, {@code mode=count|any})</td></tr>
 *   <tr><td>{@code rule:format}</td><td>1 when {@code check=nonempty|terminal-punctuation|no-repeated-words|json|max-chars}
 *       passes ({@code max} for max-chars), else {@code penalty} (default 0)</td></tr>
 *   <tr><td>{@code rm:DIR}</td><td>a DJL reward-model checkpoint directory ({@code tokenizer=FILE}, {@code version})</td></tr>
 *   <tr><td>{@code torchscript:FILE}</td><td>a TorchScript reward model ({@code context}, {@code vocab},
 *       {@code tokenizer}, {@code version})</td></tr>
 *   <tr><td>{@code hf:DIR}</td><td>a Hugging Face sequence-classification reward-model folder with its own
 *       {@code tokenizer.json}, scoring the text through its chat template ({@code version}, {@code batch},
 *       {@code max_tokens})</td></tr>
 *   <tr><td>{@code judge:URL}</td><td>a chat-completions endpoint ({@code model}, {@code mode=pointwise|pairwise},
 *       {@code reference}, {@code template_file}, {@code timeout_ms}, {@code retries}, {@code backoff_ms},
 *       {@code breaker_failures}, {@code breaker_open_ms}, {@code concurrency}, {@code api_key_env})</td></tr>
 *   <tr><td>{@code verify:KIND}</td><td>{@code pass} (default 1) when the response passes the verifier KIND
 *       ({@code exact}, {@code normalised}, {@code numeric}, {@code json-schema}) against the prompt's reference
 *       answers, else {@code fail} (default 0); a prompt's own {@code verifier} takes precedence, and
 *       {@code verify:prompt} uses only that ({@code extract}, {@code pattern}, {@code tolerance}, {@code relative};
 *       see {@link io.streamrlhf.schemas.verify.VerifierSpec})</td></tr>
 *   <tr><td>{@code http://HOST/PATH} (or {@code http:URL})</td><td>a reward server: batches POSTed as JSON
 *       ({@code model}, {@code batch}, {@code timeout_ms}, {@code retries}, {@code backoff_ms},
 *       {@code breaker_failures}, {@code breaker_open_ms}, {@code concurrency}, {@code rate}, {@code api_key_env},
 *       {@code version}; see {@link io.streamrlhf.rewardstream.scoring.remote.RemoteRewardSource})</td></tr>
 *   <tr><td>{@code embed:DIR}</td><td>reward heads on frozen all-MiniLM-L6-v2 embeddings, from
 *       {@code rlhf train-rm --encoder minilm --out DIR} ({@code version})</td></tr>
 * </table>
 *
 * <p>Every kind takes {@code name=...} (the scorer's name in its ensemble; for {@code rm:} also the key of its
 * {@code rm.versions} records). A backslash escapes the next character, so a literal {@code ;} or {@code ,} is
 * written {@code \;} or {@code \,}. {@link #parseList(String)} splits a comma-separated list of specs.
 *
 * @param kind    {@code rule}, {@code rm}, {@code torchscript}, {@code hf}, {@code judge}, {@code verify}, {@code http},
 *                {@code https} or {@code embed}
 * @param target  what follows the kind: a rule name, a directory, a file or a URL
 * @param options the {@code key=value} options, in order
 */
public record RewardSpec(String kind, String target, Map<String, String> options) {

    /** The kinds this parser accepts. */
    public static final Set<String> KINDS = Set.of("rule", "rm", "torchscript", "hf", "judge", "verify", "http",
            "https", "embed");

    /** Checks the parts. */
    public RewardSpec {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(target, "target");
        options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    /**
     * Parses one spec.
     *
     * @throws IllegalArgumentException naming the spec and what is wrong with it
     */
    public static RewardSpec parse(String spec) {
        Objects.requireNonNull(spec, "spec");
        List<String> parts = split(spec.trim(), ';');
        String head = parts.get(0);
        int colon = head.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("reward spec '" + spec + "': expected KIND:TARGET, e.g. rule:length, "
                    + "rm:DIR, torchscript:FILE, hf:DIR, judge:URL, verify:numeric or http://HOST/PATH");
        }
        String kind = head.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String target = head.substring(colon + 1).trim();
        if (!KINDS.contains(kind)) {
            throw new IllegalArgumentException("reward spec '" + spec + "': unknown kind '" + kind
                    + "'; expected one of rule, rm, torchscript, hf, judge, verify, http, embed");
        }
        if (target.isEmpty()) {
            throw new IllegalArgumentException("reward spec '" + spec + "': nothing after '" + kind + ":'");
        }
        Map<String, String> options = new LinkedHashMap<>();
        for (String option : parts.subList(1, parts.size())) {
            if (option.isBlank()) {
                continue;
            }
            int eq = option.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("reward spec '" + spec + "': option '" + option
                        + "' is not key=value");
            }
            String key = option.substring(0, eq).trim();
            if (options.put(key, option.substring(eq + 1).trim()) != null) {
                throw new IllegalArgumentException("reward spec '" + spec + "': option '" + key + "' given twice");
            }
        }
        return new RewardSpec(kind, target, options);
    }

    /** Parses a comma-separated list of specs (commas inside a spec are escaped as {@code \,}). */
    public static List<RewardSpec> parseList(String specs) {
        List<RewardSpec> out = new ArrayList<>();
        for (String one : splitRaw(specs, ',')) {
            if (!one.isBlank()) {
                out.add(parse(one));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no reward source given (expected e.g. 'rule:length,rm:/ckpt/rm-0')");
        }
        return out;
    }

    /** The scorer name: the {@code name} option, else {@code defaultName}. */
    public String name(String defaultName) {
        return options.getOrDefault("name", defaultName);
    }

    /** A string option, or {@code fallback}. */
    public String option(String key, String fallback) {
        return options.getOrDefault(key, fallback);
    }

    /** A numeric option, or {@code fallback}; a non-number names the spec and the key. */
    public double doubleOption(String key, double fallback) {
        String v = options.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("reward spec '" + this + "': option " + key + "=" + v
                    + " is not a number");
        }
    }

    /** An integer option, or {@code fallback}. */
    public long longOption(String key, long fallback) {
        String v = options.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("reward spec '" + this + "': option " + key + "=" + v
                    + " is not an integer");
        }
    }

    /** Throws when an option outside {@code allowed} (plus {@code name}) is present: a typo should not pass. */
    public void checkOptions(Set<String> allowed) {
        for (String key : options.keySet()) {
            if (!key.equals("name") && !allowed.contains(key)) {
                throw new IllegalArgumentException("reward spec '" + this + "': unknown option '" + key
                        + "'; " + kind + ":" + (kind.equals("rule") ? target : "...") + " takes "
                        + (allowed.isEmpty() ? "only name" : "name, " + String.join(", ", allowed)));
            }
        }
    }

    /** The spec string again (escaped where needed), e.g. for logs. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(kind).append(':').append(escape(target));
        options.forEach((k, v) -> s.append(';').append(k).append('=').append(escape(v)));
        return s.toString();
    }

    private static String escape(String text) {
        return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,");
    }

    /** Splits on unescaped {@code separator} and removes the escapes. */
    private static List<String> split(String text, char separator) {
        List<String> parts = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length()) {
                current.append(text.charAt(++i));
            } else if (c == separator) {
                parts.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        parts.add(current.toString());
        return parts;
    }

    /** Splits on unescaped {@code separator}, keeping escapes for the next level. */
    private static List<String> splitRaw(String text, char separator) {
        List<String> parts = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length()) {
                char next = text.charAt(++i);
                if (next != separator) {
                    current.append('\\');
                }
                current.append(next);
            } else if (c == separator) {
                parts.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        parts.add(current.toString());
        return parts;
    }
}
