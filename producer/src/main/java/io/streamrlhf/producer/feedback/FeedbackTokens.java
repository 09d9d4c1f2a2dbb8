package io.streamrlhf.producer.feedback;

import io.streamrlhf.schemas.avro.FeedbackSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The feedback API's bearer tokens, one per annotator: a token says who labels ({@code annotator_id}) and what kind of
 * rater it is ({@code source}), so neither is taken from a request body.
 *
 * <p>The tokens file has one token a line, {@code ANNOTATOR_ID SOURCE TOKEN}, separated by white space; {@code SOURCE}
 * is {@code human}, {@code simulated} or {@code ai_judge}; blank lines and lines starting with {@code #} are skipped.
 * Tokens must be at least {@value #MIN_TOKEN_CHARS} characters and unique. Only their SHA-256 is kept in memory, and
 * a lookup is by that digest, so the time a lookup takes says nothing about how much of a guessed token was right.
 */
public final class FeedbackTokens {

    /** Shortest token accepted: 128 bits as hex is 32 characters; 24 keeps short random Base64 tokens usable. */
    public static final int MIN_TOKEN_CHARS = 24;

    /** Who a token labels as. */
    public record Annotator(String annotatorId, FeedbackSource source) {
    }

    private final Map<String, Annotator> byDigest;

    private FeedbackTokens(Map<String, Annotator> byDigest) {
        this.byDigest = Map.copyOf(byDigest);
    }

    /** No tokens: the API is open (allowed on a loopback address only). */
    public static FeedbackTokens none() {
        return new FeedbackTokens(Map.of());
    }

    /** Tokens from a map of token to annotator (tests and embedding code). */
    public static FeedbackTokens of(Map<String, Annotator> tokens) {
        Map<String, Annotator> m = new HashMap<>();
        tokens.forEach((token, who) -> {
            checkToken(token, "token of " + who.annotatorId());
            m.put(digest(token), who);
        });
        return new FeedbackTokens(m);
    }

    /**
     * Reads a tokens file.
     *
     * @throws IllegalArgumentException naming the file, the line and what is wrong (never the token itself)
     */
    public static FeedbackTokens read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the tokens file " + file + ": " + e.getMessage(), e);
        }
        Map<String, Annotator> m = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = file + " line " + (i + 1);
            String[] parts = line.split("\\s+");
            if (parts.length != 3) {
                throw new IllegalArgumentException(where + ": expected 'ANNOTATOR_ID SOURCE TOKEN', got "
                        + parts.length + " field(s)");
            }
            FeedbackSource source = switch (parts[1].toLowerCase(Locale.ROOT)) {
                case "human" -> FeedbackSource.HUMAN;
                case "simulated" -> FeedbackSource.SIMULATED;
                case "ai_judge" -> FeedbackSource.AI_JUDGE;
                default -> throw new IllegalArgumentException(where + ": unknown source '" + parts[1]
                        + "'; expected human, simulated or ai_judge");
            };
            checkToken(parts[2], where);
            if (m.put(digest(parts[2]), new Annotator(parts[0], source)) != null) {
                throw new IllegalArgumentException(where + ": this token is already given to another annotator");
            }
        }
        return new FeedbackTokens(m);
    }

    /** Whether any token is configured. */
    public boolean enabled() {
        return !byDigest.isEmpty();
    }

    /** How many tokens there are. */
    public int size() {
        return byDigest.size();
    }

    /** The annotator of {@code token}, or empty for an unknown one. */
    public Optional<Annotator> lookup(String token) {
        return Optional.ofNullable(byDigest.get(digest(token)));
    }

    private static void checkToken(String token, String where) {
        if (token == null || token.length() < MIN_TOKEN_CHARS) {
            throw new IllegalArgumentException(where + ": the token is shorter than " + MIN_TOKEN_CHARS
                    + " characters; use a random one (e.g. 'openssl rand -hex 16')");
        }
    }

    private static String digest(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
