package io.streamrlhf.models.world;

import java.util.List;

/**
 * A topic prompts can name.
 *
 * @param name  the topic's own noun, the one prompts use ("ocean")
 * @param nouns every noun of the topic, {@code name} first
 */
public record Topic(String name, List<String> nouns) {

    /** Copies the list and checks that the name is among the nouns. */
    public Topic {
        nouns = List.copyOf(nouns);
        if (nouns.isEmpty() || !nouns.get(0).equals(name)) {
            throw new IllegalArgumentException("topic '" + name + "': its noun list must start with its name");
        }
    }
}
