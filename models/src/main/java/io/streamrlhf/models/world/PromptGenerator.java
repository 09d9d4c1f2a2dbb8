package io.streamrlhf.models.world;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Draws prompts naming a topic ("write about the ocean :"): topic and template uniformly at random.
 * The same seed gives the same sequence. Not thread-safe (one generator per thread).
 */
public final class PromptGenerator {

    /** Prompt templates; {@code TOPIC} is replaced by the topic's name. Every one ends with ':'. */
    public static final List<String> TEMPLATES = List.of(
            "write about the TOPIC :",
            "tell me about the TOPIC :",
            "describe the TOPIC :",
            "write a story about the TOPIC :",
            "please write something about the TOPIC :",
            "write about TOPIC :");

    private final Vocabulary vocabulary;
    private final SplittableRandom random;

    /** A generator over the vocabulary's topics, seeded. */
    public PromptGenerator(Vocabulary vocabulary, long seed) {
        this.vocabulary = vocabulary;
        this.random = new SplittableRandom(seed);
    }

    /** The next prompt. */
    public WorldPrompt next() {
        Topic topic = vocabulary.topics().get(random.nextInt(vocabulary.topics().size()));
        return forTopic(topic.name(), random.nextInt(TEMPLATES.size()));
    }

    /** The next {@code n} prompts. */
    public List<WorldPrompt> next(int n) {
        List<WorldPrompt> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(next());
        }
        return out;
    }

    /** The prompt of one template (index into {@link #TEMPLATES}) for one topic. */
    public WorldPrompt forTopic(String topic, int template) {
        if (vocabulary.topic(topic).isEmpty()) {
            throw new IllegalArgumentException("unknown topic '" + topic + "'; topics are " +
                    vocabulary.topics().stream().map(Topic::name).toList());
        }
        return new WorldPrompt(topic, Vocabulary.split(TEMPLATES.get(template).replace("TOPIC", topic)));
    }
}
