package io.streamrlhf.models.world;

/**
 * Knobs of the SFT corpus grammar ({@link CorpusGenerator}). The flaws are deliberate: the SFT policy
 * learns them, and RLHF has something to improve.
 *
 * @param offTopicResponse  probability that a whole response is about another topic
 * @param offTopicNoun      probability that one noun slot takes a noun of another topic
 * @param positiveMood      probability of a positive response (adjectives, verbs, adverbs mostly positive)
 * @param negativeMood      probability of a negative response; the rest are mixed
 * @param moodStrength      share of polar words in a positive or negative response (the rest neutral)
 * @param repeatSentence    probability that a sentence repeats the previous one word for word
 * @param stutter           probability that a sentence has one word doubled ("the the ocean")
 * @param dropWord          probability that a sentence loses one word
 * @param exclamation       probability that a sentence ends with '!' rather than '.'
 * @param maxResponseWords  responses are cut here (the last sentence then stays unterminated)
 */
public record CorpusConfig(double offTopicResponse, double offTopicNoun, double positiveMood, double negativeMood,
                           double moodStrength, double repeatSentence, double stutter, double dropWord,
                           double exclamation, int maxResponseWords) {

    /**
     * Sentence counts and their weights: 1 (10 %), 2 (30 %), 3 (35 %), 4 (17 %), 6 (8 %, often too long).
     */
    static final int[] SENTENCE_COUNTS = {1, 2, 3, 4, 6};
    static final double[] SENTENCE_COUNT_WEIGHTS = {0.10, 0.30, 0.35, 0.17, 0.08};

    /** Checks that every probability is in [0, 1] and the moods add up to at most 1. */
    public CorpusConfig {
        for (double p : new double[] {offTopicResponse, offTopicNoun, positiveMood, negativeMood, moodStrength,
                repeatSentence, stutter, dropWord, exclamation}) {
            if (!(p >= 0 && p <= 1)) {
                throw new IllegalArgumentException("CorpusConfig: probabilities must be in [0, 1], got " + p);
            }
        }
        if (positiveMood + negativeMood > 1) {
            throw new IllegalArgumentException("CorpusConfig: positiveMood + negativeMood must be <= 1, got "
                    + (positiveMood + negativeMood));
        }
        if (maxResponseWords < 4) {
            throw new IllegalArgumentException("CorpusConfig: maxResponseWords must be >= 4, got " + maxResponseWords);
        }
    }

    /** The defaults the demo's SFT policy is trained with. */
    public static CorpusConfig defaults() {
        return new CorpusConfig(0.08, 0.10, 0.40, 0.25, 0.8, 0.08, 0.04, 0.03, 0.15, 48);
    }
}
