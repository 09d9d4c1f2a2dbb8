package io.streamrlhf.models.world;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The stochastic grammar that writes the SFT corpus: for a prompt on a topic it writes one to six
 * sentences from the {@link Grammar}'s patterns, mostly on the topic, with a response-level mood
 * (positive, negative or mixed) and the flaws of {@link CorpusConfig} (off-topic nouns or responses,
 * repeated sentences, doubled or missing words, responses too short or too long). Deterministic given
 * the random source; not thread-safe.
 */
public final class CorpusGenerator {

    private final Vocabulary vocabulary;
    private final Grammar grammar;
    private final CorpusConfig config;

    /** A generator over a vocabulary and grammar. */
    public CorpusGenerator(Vocabulary vocabulary, Grammar grammar, CorpusConfig config) {
        this.vocabulary = vocabulary;
        this.grammar = grammar;
        this.config = config;
    }

    /** {@code n} examples: prompts from a {@link PromptGenerator} seeded with {@code seed}, responses likewise. */
    public List<SftExample> generate(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        PromptGenerator prompts = new PromptGenerator(vocabulary, random.nextLong());
        List<SftExample> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            WorldPrompt prompt = prompts.next();
            out.add(new SftExample(prompt, respond(prompt, random)));
        }
        return out;
    }

    /** One response to a prompt. */
    public List<String> respond(WorldPrompt prompt, SplittableRandom random) {
        List<Topic> topics = vocabulary.topics();
        Topic topic = vocabulary.topic(prompt.topic()).orElseThrow(
                () -> new IllegalArgumentException("prompt topic '" + prompt.topic() + "' is not in the vocabulary"));
        if (random.nextDouble() < config.offTopicResponse()) {
            topic = otherTopic(topic, random);
        }
        double mood = random.nextDouble();
        int moodPolarity = mood < config.positiveMood() ? 1 : mood < config.positiveMood() + config.negativeMood() ? -1 : 0;
        int sentences = pick(CorpusConfig.SENTENCE_COUNTS, CorpusConfig.SENTENCE_COUNT_WEIGHTS, random);
        // Nouns are drawn without replacement while the topic has unused ones, as a writer varies words.
        List<String> unusedNouns = new ArrayList<>(topic.nouns());
        List<String> response = new ArrayList<>();
        List<String> previous = null;
        for (int s = 0; s < sentences; s++) {
            List<String> sentence;
            if (previous != null && random.nextDouble() < config.repeatSentence()) {
                sentence = previous;
            } else {
                sentence = sentence(topic, unusedNouns, moodPolarity, random);
            }
            previous = sentence;
            List<String> written = new ArrayList<>(sentence);
            if (random.nextDouble() < config.stutter()) {
                int i = random.nextInt(written.size() - 1);
                written.add(i, written.get(i));
            }
            if (random.nextDouble() < config.dropWord()) {
                written.remove(random.nextInt(written.size() - 1));
            }
            response.addAll(written);
        }
        if (response.size() > config.maxResponseWords()) {
            return new ArrayList<>(response.subList(0, config.maxResponseWords()));
        }
        return response;
    }

    private List<String> sentence(Topic topic, List<String> unusedNouns, int moodPolarity, SplittableRandom random) {
        List<List<String>> patterns = grammar.patterns();
        List<String> pattern = patterns.get(random.nextInt(patterns.size()));
        List<String> out = new ArrayList<>(pattern.size());
        for (String slot : pattern) {
            WordClass wordClass = Grammar.slotClass(slot).orElse(null);
            if (wordClass == null) {
                out.add(slot);
            } else if (wordClass == WordClass.NOUN) {
                out.add(noun(topic, unusedNouns, random));
            } else if (wordClass == WordClass.END) {
                out.add(random.nextDouble() < config.exclamation() ? "!" : ".");
            } else if (wordClass == WordClass.ADJECTIVE || wordClass == WordClass.VERB || wordClass == WordClass.ADVERB) {
                out.add(uniform(vocabulary.wordsOf(wordClass, polarity(moodPolarity, random)), random));
            } else {
                out.add(uniform(vocabulary.wordsOf(wordClass), random));
            }
        }
        return out;
    }

    private String noun(Topic topic, List<String> unusedNouns, SplittableRandom random) {
        if (random.nextDouble() < config.offTopicNoun()) {
            return uniform(otherTopic(topic, random).nouns(), random);
        }
        if (unusedNouns.isEmpty()) {
            return uniform(topic.nouns(), random);
        }
        return unusedNouns.remove(random.nextInt(unusedNouns.size()));
    }

    private int polarity(int moodPolarity, SplittableRandom random) {
        double u = random.nextDouble();
        if (moodPolarity != 0) {
            return u < config.moodStrength() ? moodPolarity : 0;
        }
        // Mixed mood: positive, negative and neutral words in similar shares.
        return u < 0.35 ? 1 : u < 0.70 ? -1 : 0;
    }

    private Topic otherTopic(Topic topic, SplittableRandom random) {
        List<Topic> topics = vocabulary.topics();
        Topic other;
        do {
            other = topics.get(random.nextInt(topics.size()));
        } while (other.equals(topic));
        return other;
    }

    private static String uniform(List<String> options, SplittableRandom random) {
        return options.get(random.nextInt(options.size()));
    }

    private static int pick(int[] values, double[] weights, SplittableRandom random) {
        double u = random.nextDouble();
        double acc = 0;
        for (int i = 0; i < values.length; i++) {
            acc += weights[i];
            if (u < acc) {
                return values[i];
            }
        }
        return values[values.length - 1];
    }
}
