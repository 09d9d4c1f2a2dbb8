package io.streamrlhf.models.world;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The synthetic world's verifiable task: "count the positive and the negative words, and say which side wins". A prompt
 * lists {@link #LISTED} adjectives of a small lexicon, each positive, negative or neutral ({@code tell me about : lovely bitter quiet :});
 * the answer is {@code good} when the positive ones outnumber the negative ones, {@code bad} when the negative ones
 * do, else {@code plain} — checked by the {@value #VERIFIER} verifier against the prompt's reference answer. Every word
 * is in the standard vocabulary, so the world's policy and tokenizer serve it unchanged; the three answer words never
 * appear among the listed ones.
 *
 * <p>The SFT demonstrations answer with one of the three answers drawn uniformly, right or not: they teach the answer's
 * form (one answer word, then {@code <eos>}) but not the rule, as a noisy demonstration set does. A policy trained on
 * them passes about one prompt in three, and best-of-8 by the verifier nearly all: the reward signal is there for RL
 * to find, in the listed words' polarities.
 *
 * <p>Each listed word is positive, negative or neutral with probability 1/3, so about 37 % of the answers are
 * {@code good}, 37 % {@code bad} and 26 % {@code plain}. The same seed gives the same items. Not thread-safe.
 */
public final class SentimentTask {

    /** Adjectives listed in each prompt. */
    public static final int LISTED = 3;
    /**
     * Adjectives of each polarity the task draws from (the vocabulary's first ones): a lexicon small enough that a
     * tiny policy meets every word often within a few minutes of RL on two cores.
     */
    public static final int LEXICON_PER_POLARITY = 6;
    /** The prompt's words before the listed ones. */
    public static final List<String> PREFIX = List.of("tell", "me", "about", ":");
    /** The answer by the sign of (positive − negative) listed words: −1, 0, +1. */
    public static final Map<Integer, String> ANSWERS = Map.of(1, "good", -1, "bad", 0, "plain");
    /** The answers in a fixed order (what the demonstrations draw from). */
    private static final List<String> ANSWER_LIST = List.of("good", "bad", "plain");
    /** How the reward stream checks a response: SQuAD-normalised equality (case and punctuation ignored). */
    public static final String VERIFIER = "normalised";
    /** The category of the task's prompts. */
    public static final String CATEGORY = "sentiment-count";

    private final List<List<String>> byPolarity;
    private final SplittableRandom random;

    /**
     * One item of the task.
     *
     * @param prompt the prompt (its topic is {@link #CATEGORY}: no world topic is asked for)
     * @param answer {@code good}, {@code bad} or {@code plain}
     */
    public record Item(WorldPrompt prompt, String answer) {

        /** Checks the parts. */
        public Item {
            Objects.requireNonNull(prompt, "prompt");
            Objects.requireNonNull(answer, "answer");
        }

        /** The listed words, in the prompt's order. */
        public List<String> listed() {
            return prompt.words().subList(PREFIX.size(), prompt.words().size() - 1);
        }
    }

    /** The task over a vocabulary's adjectives, seeded. */
    public SentimentTask(Vocabulary vocabulary, long seed) {
        List<List<String>> lists = new ArrayList<>();
        for (int polarity = -1; polarity <= 1; polarity++) {
            List<String> words = vocabulary.wordsOf(WordClass.ADJECTIVE, polarity).stream()
                    .filter(w -> !ANSWER_LIST.contains(w)).limit(LEXICON_PER_POLARITY).toList();
            if (words.isEmpty()) {
                throw new IllegalArgumentException("the vocabulary has no adjective of polarity " + polarity
                        + " besides the answers " + ANSWER_LIST + ": the sentiment task needs one of each");
            }
            lists.add(words);
        }
        this.byPolarity = List.copyOf(lists);
        this.random = new SplittableRandom(seed);
    }

    /** The task on the standard vocabulary. */
    public static SentimentTask standard(long seed) {
        return new SentimentTask(Vocabulary.standard(), seed);
    }

    /** The answer for listed words of these polarities (each −1, 0 or +1). */
    public static String answerFor(int[] polarities) {
        int sum = 0;
        for (int p : polarities) {
            sum += p;
        }
        return ANSWERS.get(Integer.signum(sum));
    }

    /** The next item: {@link #LISTED} adjectives, each of a polarity drawn uniformly. */
    public Item next() {
        int[] polarities = new int[LISTED];
        List<String> words = new ArrayList<>(PREFIX);
        for (int i = 0; i < LISTED; i++) {
            polarities[i] = random.nextInt(3) - 1;
            List<String> pool = byPolarity.get(polarities[i] + 1);
            words.add(pool.get(random.nextInt(pool.size())));
        }
        words.add(":");
        return new Item(new WorldPrompt(CATEGORY, words), answerFor(polarities));
    }

    /** The next {@code n} items. */
    public List<Item> next(int n) {
        List<Item> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(next());
        }
        return out;
    }

    /** {@code n} SFT demonstrations: fresh items, each answered with one of the three answers drawn uniformly. */
    public List<SftExample> demonstrations(int n) {
        List<SftExample> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Item item = next();
            out.add(new SftExample(item.prompt(), List.of(ANSWER_LIST.get(random.nextInt(ANSWER_LIST.size())))));
        }
        return out;
    }
}
