package io.streamrlhf.models.world;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A prompt of the synthetic world: words that ask for text about one topic, ending with {@code :}.
 *
 * @param topic the topic's name ("ocean")
 * @param words the prompt's words ({@code [write, about, the, ocean, :]})
 */
public record WorldPrompt(String topic, List<String> words) {

    /** Copies the words. */
    public WorldPrompt {
        Objects.requireNonNull(topic, "topic");
        words = List.copyOf(words);
    }

    /** The prompt as text (words joined by spaces). */
    public String text() {
        return Vocabulary.join(words);
    }

    /**
     * Reads a prompt's text back: the topic is that of the first topic noun in it.
     *
     * @throws IllegalArgumentException when no word of the text is a topic noun
     */
    public static WorldPrompt parse(Vocabulary vocabulary, String text) {
        List<String> words = Vocabulary.split(text);
        return new WorldPrompt(topicOf(vocabulary, words).orElseThrow(() -> new IllegalArgumentException(
                "prompt '" + text + "' names no topic of the synthetic world")), words);
    }

    /** The topic of the first topic noun among the words, if any. */
    public static Optional<String> topicOf(Vocabulary vocabulary, List<String> words) {
        for (String w : words) {
            Optional<Word> word = vocabulary.lookup(w);
            if (word.isPresent() && word.get().wordClass() == WordClass.NOUN) {
                return Optional.of(word.get().topic());
            }
        }
        return Optional.empty();
    }
}
