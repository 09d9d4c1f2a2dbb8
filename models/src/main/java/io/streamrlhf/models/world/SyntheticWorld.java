package io.streamrlhf.models.world;

/**
 * The built-in world in one place: its vocabulary, grammar, gold reward and corpus grammar, and
 * factories for seeded prompt generators and raters.
 */
public final class SyntheticWorld {

    /** Default rater temperature τ on the gold scale. */
    public static final double DEFAULT_TAU = 0.5;
    /** Default share of flipped rater labels. */
    public static final double DEFAULT_FLIP_SHARE = 0.1;

    private static final SyntheticWorld STANDARD = new SyntheticWorld(Vocabulary.standard(), CorpusConfig.defaults());

    private final Vocabulary vocabulary;
    private final Grammar grammar;
    private final GoldReward gold;
    private final CorpusGenerator corpus;

    /** A world over a vocabulary with a corpus configuration. */
    public SyntheticWorld(Vocabulary vocabulary, CorpusConfig corpusConfig) {
        this.vocabulary = vocabulary;
        this.grammar = new Grammar(vocabulary);
        this.gold = new GoldReward(vocabulary, grammar);
        this.corpus = new CorpusGenerator(vocabulary, grammar, corpusConfig);
    }

    /** The standard world (standard vocabulary, default corpus). */
    public static SyntheticWorld standard() {
        return STANDARD;
    }

    /** The vocabulary. */
    public Vocabulary vocabulary() {
        return vocabulary;
    }

    /** The sentence patterns. */
    public Grammar grammar() {
        return grammar;
    }

    /** The hidden gold reward. */
    public GoldReward gold() {
        return gold;
    }

    /** The SFT corpus grammar. */
    public CorpusGenerator corpus() {
        return corpus;
    }

    /** A prompt generator, seeded. */
    public PromptGenerator prompts(long seed) {
        return new PromptGenerator(vocabulary, seed);
    }

    /** A rater with the default τ and flip share, seeded. */
    public SimulatedRater rater(long seed) {
        return new SimulatedRater(DEFAULT_TAU, DEFAULT_FLIP_SHARE, seed);
    }
}
