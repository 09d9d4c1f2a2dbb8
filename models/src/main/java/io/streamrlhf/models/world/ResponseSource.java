package io.streamrlhf.models.world;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Anything that answers prompts of the world with responses (as words): the corpus grammar, or a
 * trained policy through an adapter in {@code io.streamrlhf.models.sft}.
 */
@FunctionalInterface
public interface ResponseSource {

    /** One response per prompt, in order; each response's words, without {@code <eos>}. */
    List<List<String>> respond(List<WorldPrompt> prompts);

    /** The corpus grammar as a source, seeded. */
    static ResponseSource grammar(CorpusGenerator generator, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        return prompts -> prompts.stream().map(p -> generator.respond(p, random)).toList();
    }
}
