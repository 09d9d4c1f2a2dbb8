package io.streamrlhf.models.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A word-level tokenizer over a fixed vocabulary: text is split into words (letters and digits,
 * with inner apostrophes) and single punctuation marks; each piece maps to its id, or to the
 * unknown id. Used by the synthetic world, whose vocabulary is a few hundred words.
 *
 * <p>Ids: the four special tokens come first ({@code <pad>}=0, {@code <bos>}=1, {@code <eos>}=2,
 * {@code <unk>}=3), then the words in the order given. Written by hand because the split and the
 * decode rules are the synthetic world's own, and the class is a few lines.
 */
public final class WordLevelTokenizer implements Tokenizer {

    /** Padding token. */
    public static final String PAD = "<pad>";
    /** Beginning of sequence. */
    public static final String BOS = "<bos>";
    /** End of sequence. */
    public static final String EOS = "<eos>";
    /** Unknown word. */
    public static final String UNK = "<unk>";

    private static final Pattern PIECE = Pattern.compile("[\\p{L}\\p{N}_]+(?:'[\\p{L}\\p{N}_]+)*|[^\\p{L}\\p{N}_\\s]");
    private static final Set<String> NO_SPACE_BEFORE = Set.of(".", ",", "!", "?", ";", ":", ")", "'");
    private static final Set<String> NO_SPACE_AFTER = Set.of("(");

    private final List<String> tokens;
    private final Map<String, Integer> ids;
    private final boolean lowercase;

    /**
     * A tokenizer over {@code words} (special tokens are added in front; a word may not repeat).
     *
     * @param lowercase lower-case the text before lookup
     */
    public WordLevelTokenizer(List<String> words, boolean lowercase) {
        this.lowercase = lowercase;
        this.tokens = new ArrayList<>(List.of(PAD, BOS, EOS, UNK));
        this.ids = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            ids.put(tokens.get(i), i);
        }
        for (String w : words) {
            if (w == null || w.isBlank() || w.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("WordLevelTokenizer: word '" + w + "' is empty or holds whitespace");
            }
            String key = lowercase ? w.toLowerCase(Locale.ROOT) : w;
            if (ids.putIfAbsent(key, tokens.size()) != null) {
                throw new IllegalArgumentException("WordLevelTokenizer: word '" + key + "' appears twice");
            }
            tokens.add(key);
        }
    }

    /** A lower-casing tokenizer over {@code words}. */
    public static WordLevelTokenizer of(List<String> words) {
        return new WordLevelTokenizer(words, true);
    }

    /** Splits text into the pieces that are looked up (exposed for tests and the world's grammar). */
    public List<String> split(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = PIECE.matcher(lowercase ? text.toLowerCase(Locale.ROOT) : text);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    @Override
    public int[] encode(String text) {
        List<String> pieces = split(text);
        int[] out = new int[pieces.size()];
        int unk = ids.get(UNK);
        for (int i = 0; i < out.length; i++) {
            out[i] = ids.getOrDefault(pieces.get(i), unk);
        }
        return out;
    }

    @Override
    public String decode(int[] idsToDecode) {
        StringBuilder sb = new StringBuilder();
        String previous = null;
        for (int id : idsToDecode) {
            String t = token(id);
            if (id <= 2) {  // pad, bos, eos are not text
                continue;
            }
            if (previous != null && !NO_SPACE_BEFORE.contains(t) && !NO_SPACE_AFTER.contains(previous)) {
                sb.append(' ');
            }
            sb.append(t);
            previous = t;
        }
        return sb.toString();
    }

    /** The id of a word, or the unknown id. */
    public int id(String word) {
        return ids.getOrDefault(lowercase ? word.toLowerCase(Locale.ROOT) : word, ids.get(UNK));
    }

    /** The unknown-word id. */
    public int unkId() {
        return ids.get(UNK);
    }

    /** The vocabulary, in id order (special tokens first). */
    public List<String> vocabulary() {
        return List.copyOf(tokens);
    }

    @Override
    public int vocabSize() {
        return tokens.size();
    }

    @Override
    public int bosId() {
        return ids.get(BOS);
    }

    @Override
    public int eosId() {
        return ids.get(EOS);
    }

    @Override
    public int padId() {
        return ids.get(PAD);
    }

    @Override
    public String token(int id) {
        if (id < 0 || id >= tokens.size()) {
            throw new IllegalArgumentException("id " + id + " is outside the vocabulary [0, " + tokens.size() + ")");
        }
        return tokens.get(id);
    }
}
