package io.streamrlhf.models.world;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The hidden gold reward of the synthetic world: what the simulated raters prefer and what the demo
 * reports beside the proxy reward models' scores. Each component is a method; the total is
 *
 * <pre>
 *   gold = 1.0·sentiment + 1.0·onTopic + 1.0·fluency − 1.5·repetition + 0.5·length   ∈ [−2.5, 3.5]
 * </pre>
 *
 * on this fixed scale (never normalised per batch). With n the number of response words
 * (punctuation counts, {@code <eos>} does not):
 * <ul>
 *   <li>sentiment = (P − N) / (P + N + 1), P and N the counts of positive and negative words; it
 *       saturates, so piling up liked words gains little;</li>
 *   <li>onTopic = share of the nouns that belong to the prompt's topic (0 with no nouns);</li>
 *   <li>fluency = share of the words that lie in terminated sentences matching a {@link Grammar}
 *       pattern;</li>
 *   <li>repetition = (c − u) / c over content words (nouns, adjectives, verbs, adverbs), c of them,
 *       u distinct (0 when c = 0);</li>
 *   <li>length = n / 12 below 12 words, 1 from 12 to 32, max(0, 1 − (n − 32) / 32) above.</li>
 * </ul>
 * A proxy that learned "positive words are good" is exploitable: "great great great great" has
 * sentiment 0.8 but no fluency, no topic and repetition 0.75, so its gold is below zero.
 * Stateless and thread-safe.
 */
public final class GoldReward {

    /** Weight of {@link #sentiment}. */
    public static final double W_SENTIMENT = 1.0;
    /** Weight of {@link #onTopic}. */
    public static final double W_ON_TOPIC = 1.0;
    /** Weight of {@link #fluency}. */
    public static final double W_FLUENCY = 1.0;
    /** Weight of {@link #repetition} (subtracted). */
    public static final double W_REPETITION = 1.5;
    /** Weight of {@link #length}. */
    public static final double W_LENGTH = 0.5;
    /** Shortest response with full length credit, in words. */
    public static final int MIN_GOOD_LENGTH = 12;
    /** Longest response with full length credit, in words. */
    public static final int MAX_GOOD_LENGTH = 32;
    /** Lowest possible total. */
    public static final double MIN_TOTAL = -W_SENTIMENT - W_REPETITION;
    /** Highest possible total. */
    public static final double MAX_TOTAL = W_SENTIMENT + W_ON_TOPIC + W_FLUENCY + W_LENGTH;

    private final Vocabulary vocabulary;
    private final Grammar grammar;

    /** The gold reward over a vocabulary and its grammar. */
    public GoldReward(Vocabulary vocabulary, Grammar grammar) {
        this.vocabulary = vocabulary;
        this.grammar = grammar;
    }

    /** (P − N) / (P + N + 1) over the words' polarities. */
    public double sentiment(List<String> response) {
        int positive = 0;
        int negative = 0;
        for (String w : response) {
            int polarity = vocabulary.lookup(w).map(Word::polarity).orElse(0);
            if (polarity > 0) {
                positive++;
            } else if (polarity < 0) {
                negative++;
            }
        }
        return (double) (positive - negative) / (positive + negative + 1);
    }

    /** Share of the response's nouns that belong to {@code topic}; 0 without nouns or without a topic. */
    public double onTopic(String topic, List<String> response) {
        int nouns = 0;
        int onTopic = 0;
        for (String w : response) {
            Optional<Word> word = vocabulary.lookup(w);
            if (word.isPresent() && word.get().wordClass() == WordClass.NOUN) {
                nouns++;
                if (word.get().topic().equals(topic)) {
                    onTopic++;
                }
            }
        }
        return nouns == 0 ? 0.0 : (double) onTopic / nouns;
    }

    /** Share of the words that lie in terminated, grammatical sentences; 0 for an empty response. */
    public double fluency(List<String> response) {
        if (response.isEmpty()) {
            return 0.0;
        }
        int fluent = 0;
        for (Grammar.Segment segment : grammar.segments(response)) {
            if (segment.terminated() && grammar.isSentence(segment.words())) {
                fluent += segment.words().size();
            }
        }
        return (double) fluent / response.size();
    }

    /** (c − u) / c over content words: 0 when no content word repeats, towards 1 when one word fills all. */
    public double repetition(List<String> response) {
        int content = 0;
        Set<String> distinct = new HashSet<>();
        for (String w : response) {
            if (vocabulary.lookup(w).map(x -> x.wordClass().isContent()).orElse(false)) {
                content++;
                distinct.add(w);
            }
        }
        return content == 0 ? 0.0 : (double) (content - distinct.size()) / content;
    }

    /** 1 inside [12, 32] words, rising linearly from 0 below, falling to 0 at 64 words above. */
    public double length(List<String> response) {
        int n = response.size();
        if (n < MIN_GOOD_LENGTH) {
            return (double) n / MIN_GOOD_LENGTH;
        }
        if (n <= MAX_GOOD_LENGTH) {
            return 1.0;
        }
        return Math.max(0.0, 1.0 - (double) (n - MAX_GOOD_LENGTH) / MAX_GOOD_LENGTH);
    }

    /** Every component and the weighted total for a response to a prompt on {@code topic}. */
    public GoldScore score(String topic, List<String> response) {
        double s = sentiment(response);
        double t = onTopic(topic, response);
        double f = fluency(response);
        double r = repetition(response);
        double l = length(response);
        double total = W_SENTIMENT * s + W_ON_TOPIC * t + W_FLUENCY * f - W_REPETITION * r + W_LENGTH * l;
        return new GoldScore(s, t, f, r, l, total);
    }

    /** {@link #score(String, List)} for a prompt of the world. */
    public GoldScore score(WorldPrompt prompt, List<String> response) {
        return score(prompt.topic(), response);
    }

    /**
     * Scores texts: the topic is read from the prompt's text (its first topic noun); a prompt naming
     * no topic gives onTopic 0.
     */
    public GoldScore scoreText(String promptText, String responseText) {
        String topic = WorldPrompt.topicOf(vocabulary, Vocabulary.split(promptText)).orElse("");
        return score(topic, Vocabulary.split(responseText));
    }

    /**
     * Scores token ids of this vocabulary: the response is cut at its first {@code <eos>}, padding
     * and {@code <bos>} dropped.
     */
    public GoldScore scoreIds(int[] promptIds, int[] responseIds) {
        String topic = WorldPrompt.topicOf(vocabulary, vocabulary.responseWords(promptIds)).orElse("");
        return score(topic, vocabulary.responseWords(responseIds));
    }
}
