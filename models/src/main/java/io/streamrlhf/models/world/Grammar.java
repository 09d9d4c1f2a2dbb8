package io.streamrlhf.models.world;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The sentence patterns of the synthetic world. A sentence is well formed when its words match one
 * pattern slot by slot: an upper-case slot matches any word of its class, any other slot matches
 * that exact word. Agreement ("the waves is") is deliberately not modelled.
 *
 * <table>
 *   <caption>Slots</caption>
 *   <tr><td>D</td><td>determiner</td></tr><tr><td>N</td><td>noun</td></tr>
 *   <tr><td>C</td><td>copula</td></tr><tr><td>A</td><td>adjective</td></tr>
 *   <tr><td>V</td><td>verb</td></tr><tr><td>R</td><td>adverb</td></tr>
 *   <tr><td>I</td><td>intensifier</td></tr><tr><td>J</td><td>conjunction</td></tr>
 *   <tr><td>P</td><td>pronoun</td></tr><tr><td>X</td><td>preposition</td></tr>
 *   <tr><td>E</td><td>terminator ({@code .} or {@code !})</td></tr>
 * </table>
 */
public final class Grammar {

    /** The patterns, one per line of the documentation's table. */
    public static final List<String> PATTERNS = List.of(
            "D N C A E",                  // the ocean is calm .
            "D N C I A E",                // the sand is very warm .
            "P V D N E",                  // i love the waves .
            "P V D A N E",                // we enjoy the bright reef .
            "D N makes me feel A E",      // the tide makes me feel gloomy .
            "P R V D N X D N E",          // they happily watch the boats in the harbor .
            "D A N C A E",                // the old boat is lovely .
            "D N C A J A E",              // the tide is strong and beautiful .
            "P always V D N E",           // i always enjoy the beach .
            "D N J D N C A E",            // the sand and the shells are warm .
            "D N C A , J D N C A E",      // the reef is bright , but the tide is harsh .
            "P I V D N E");               // we really love the snow .

    private static final Map<String, WordClass> SLOTS = Map.ofEntries(
            Map.entry("D", WordClass.DETERMINER), Map.entry("N", WordClass.NOUN),
            Map.entry("C", WordClass.COPULA), Map.entry("A", WordClass.ADJECTIVE),
            Map.entry("V", WordClass.VERB), Map.entry("R", WordClass.ADVERB),
            Map.entry("I", WordClass.INTENSIFIER), Map.entry("J", WordClass.CONJUNCTION),
            Map.entry("P", WordClass.PRONOUN), Map.entry("X", WordClass.PREPOSITION),
            Map.entry("E", WordClass.END));

    private final Vocabulary vocabulary;
    private final List<List<String>> patterns;

    /** The grammar over a vocabulary; every literal of every pattern must be in it. */
    public Grammar(Vocabulary vocabulary) {
        this.vocabulary = vocabulary;
        List<List<String>> parsed = new ArrayList<>();
        for (String pattern : PATTERNS) {
            List<String> slots = List.of(pattern.split(" "));
            for (String slot : slots) {
                if (!SLOTS.containsKey(slot) && !vocabulary.contains(slot)) {
                    throw new IllegalStateException("grammar pattern '" + pattern + "' uses '" + slot
                            + "', which is neither a slot nor a word of the vocabulary");
                }
            }
            parsed.add(List.copyOf(slots));
        }
        this.patterns = List.copyOf(parsed);
    }

    /** The patterns as slot lists. */
    public List<List<String>> patterns() {
        return patterns;
    }

    /** The word class a slot stands for, or empty for a literal slot. */
    public static Optional<WordClass> slotClass(String slot) {
        return Optional.ofNullable(SLOTS.get(slot));
    }

    /** True when the words (terminator included) match one pattern exactly. */
    public boolean isSentence(List<String> words) {
        for (List<String> pattern : patterns) {
            if (matches(pattern, words)) {
                return true;
            }
        }
        return false;
    }

    private boolean matches(List<String> pattern, List<String> words) {
        if (pattern.size() != words.size()) {
            return false;
        }
        for (int i = 0; i < pattern.size(); i++) {
            String slot = pattern.get(i);
            WordClass wanted = SLOTS.get(slot);
            String word = words.get(i);
            if (wanted == null) {
                if (!slot.equals(word)) {
                    return false;
                }
            } else {
                Optional<Word> w = vocabulary.lookup(word);
                if (w.isEmpty() || w.get().wordClass() != wanted) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Cuts a response into sentences: each ends at a terminator ({@code .} or {@code !}); words after
     * the last terminator form a final unterminated segment.
     */
    public List<Segment> segments(List<String> response) {
        List<Segment> out = new ArrayList<>();
        List<String> current = new ArrayList<>();
        for (String w : response) {
            current.add(w);
            if (vocabulary.lookup(w).map(x -> x.wordClass() == WordClass.END).orElse(false)) {
                out.add(new Segment(List.copyOf(current), true));
                current.clear();
            }
        }
        if (!current.isEmpty()) {
            out.add(new Segment(List.copyOf(current), false));
        }
        return out;
    }

    /**
     * A piece of a response.
     *
     * @param words      its words, terminator included when there is one
     * @param terminated true when it ends with a terminator
     */
    public record Segment(List<String> words, boolean terminated) {
    }
}
