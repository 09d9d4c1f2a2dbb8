package io.streamrlhf.models.world;

/** Part of speech of a word in the synthetic world; every word has exactly one. */
public enum WordClass {
    /** {@code <pad> <bos> <eos> <unk>}. */
    SPECIAL(false),
    /** Sentence terminators {@code .} and {@code !}. */
    END(false),
    /** The comma, used by one sentence pattern. */
    COMMA(false),
    /** The colon that ends every prompt. */
    COLON(false),
    /** Words that only prompts use ({@code write}, {@code about}, ...). */
    PROMPT(false),
    /** {@code the}, {@code a}, {@code this}, ... */
    DETERMINER(false),
    /** {@code i}, {@code we}, {@code they}, ... */
    PRONOUN(false),
    /** {@code is}, {@code are}, {@code was}, ... */
    COPULA(false),
    /** {@code very}, {@code so}, {@code really}, ... */
    INTENSIFIER(false),
    /** {@code and}, {@code but}. */
    CONJUNCTION(false),
    /** {@code in}, {@code with}, {@code near}, ... */
    PREPOSITION(false),
    /** Fixed words of some sentence patterns ({@code makes}, {@code me}, {@code feel}, {@code always}). */
    LITERAL(false),
    /** Topic nouns; each belongs to one topic. */
    NOUN(true),
    /** Adjectives, with a polarity. */
    ADJECTIVE(true),
    /** Verbs, with a polarity. */
    VERB(true),
    /** Adverbs, with a polarity. */
    ADVERB(true);

    private final boolean content;

    WordClass(boolean content) {
        this.content = content;
    }

    /** True for content words (nouns, adjectives, verbs, adverbs): the ones the repetition term counts. */
    public boolean isContent() {
        return content;
    }
}
