package io.streamrlhf.models.world;

import java.util.Objects;

/**
 * One word of the vocabulary.
 *
 * @param text      surface form (lower case, no spaces)
 * @param wordClass part of speech
 * @param polarity  +1 positive, -1 negative, 0 neutral (only adjectives, verbs and adverbs carry one)
 * @param topic     the topic a noun belongs to; {@code null} for every other word
 */
public record Word(String text, WordClass wordClass, int polarity, String topic) {

    /** Checks the fields. */
    public Word {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(wordClass, "wordClass");
        if (polarity < -1 || polarity > 1) {
            throw new IllegalArgumentException("word '" + text + "': polarity must be -1, 0 or 1, got " + polarity);
        }
        if ((wordClass == WordClass.NOUN) != (topic != null)) {
            throw new IllegalArgumentException("word '" + text + "': nouns and only nouns have a topic");
        }
    }
}
