package io.streamrlhf.producer.feedback;

import io.streamrlhf.schemas.avro.Generation;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * A bounded window of recent generations grouped by prompt, from which the rater page and the simulated raters
 * draw pairs. Holds at most {@code maxPrompts} prompts (the least recently added is dropped first) and
 * {@code maxPerPrompt} generations each. Thread-safe.
 */
public final class RecentGenerations {

    /**
     * Two generations of one prompt, in the order a rater sees them.
     *
     * @param promptId   the prompt
     * @param promptText the prompt as the policy saw it
     * @param first      shown first (index 0)
     * @param second     shown second (index 1)
     */
    public record Pair(String promptId, String promptText, Generation first, Generation second) {
    }

    private final int maxPrompts;
    private final int maxPerPrompt;
    private final LinkedHashMap<String, List<Generation>> byPrompt;

    /** A window of {@code maxPrompts} prompts of up to {@code maxPerPrompt} generations each. */
    public RecentGenerations(int maxPrompts, int maxPerPrompt) {
        if (maxPrompts < 1 || maxPerPrompt < 2) {
            throw new IllegalArgumentException("RecentGenerations: need maxPrompts >= 1 and maxPerPrompt >= 2, got "
                    + maxPrompts + ", " + maxPerPrompt);
        }
        this.maxPrompts = maxPrompts;
        this.maxPerPrompt = maxPerPrompt;
        this.byPrompt = new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, List<Generation>> eldest) {
                return size() > RecentGenerations.this.maxPrompts;
            }
        };
    }

    /** Adds a generation (a generation id already held is ignored). */
    public synchronized void add(Generation g) {
        List<Generation> list = byPrompt.computeIfAbsent(g.getPromptId(), k -> new ArrayList<>());
        for (Generation have : list) {
            if (have.getGenerationId().equals(g.getGenerationId())) {
                return;
            }
        }
        if (list.size() >= maxPerPrompt) {
            list.remove(0);
        }
        list.add(g);
    }

    /** Prompts held. */
    public synchronized int prompts() {
        return byPrompt.size();
    }

    /** Generations held. */
    public synchronized int size() {
        return byPrompt.values().stream().mapToInt(List::size).sum();
    }

    /** A random prompt with two or more generations and two distinct ones of them, in random order. */
    public synchronized Optional<Pair> randomPair(Random random) {
        List<Map.Entry<String, List<Generation>>> eligible = new ArrayList<>();
        for (Map.Entry<String, List<Generation>> e : byPrompt.entrySet()) {
            if (e.getValue().size() >= 2) {
                eligible.add(e);
            }
        }
        if (eligible.isEmpty()) {
            return Optional.empty();
        }
        Map.Entry<String, List<Generation>> pick = eligible.get(random.nextInt(eligible.size()));
        List<Generation> gs = pick.getValue();
        int a = random.nextInt(gs.size());
        int b = random.nextInt(gs.size() - 1);
        if (b >= a) {
            b++;
        }
        return Optional.of(new Pair(pick.getKey(), gs.get(a).getPromptText(), gs.get(a), gs.get(b)));
    }

    /** A random generation of the window, each equally likely, for a rating of a single response. */
    public synchronized Optional<Generation> randomOne(Random random) {
        int n = size();
        if (n == 0) {
            return Optional.empty();
        }
        int pick = random.nextInt(n);
        for (List<Generation> list : byPrompt.values()) {
            if (pick < list.size()) {
                return Optional.of(list.get(pick));
            }
            pick -= list.size();
        }
        throw new IllegalStateException("unreachable: the window changed under its lock");
    }

    /** The generation with this id, if held. */
    public synchronized Optional<Generation> find(String generationId) {
        for (List<Generation> list : byPrompt.values()) {
            for (Generation g : list) {
                if (g.getGenerationId().equals(generationId)) {
                    return Optional.of(g);
                }
            }
        }
        return Optional.empty();
    }
}
