package io.streamrlhf.loop.stack;

import java.util.List;
import java.util.Set;

/**
 * The kinds of process a stack runs, each the very {@code rlhf} command a deployment runs for that component, with
 * the name of its service in {@code compose/docker-compose.yml}.
 */
public enum ProcessKind {
    /** The stack's own Kafka broker and schema registry ({@code rlhf cluster up}); compose has its own. */
    CLUSTER("cluster", List.of("cluster", "up"), Set.of(), false),
    /** A policy worker: prompts → generations. */
    WORKER("worker", List.of("worker"), Set.of("--worker-id"), true),
    /** A reward-stream instance: generations → scored, feedback → preferences. */
    SCORER("score", List.of("score"), Set.of("--state-dir"), true),
    /** The PPO learner: scored → policy versions. */
    LEARNER("learn", List.of("learn"), Set.of(), true),
    /** The online reward-model trainer: preferences → rm.versions. */
    RM_TRAINER("train-rm", List.of("train-rm", "--online"), Set.of(), true),
    /** Simulated raters: generations → feedback. */
    RATERS("raters", List.of("feedback", "simulate"), Set.of(), true),
    /** The prompt feed: a file once, or synthetic prompts at a rate. */
    PROMPTS("prompts", List.of("prompts", "send"), Set.of(), true);

    private final String service;
    private final List<String> command;
    private final Set<String> instanceFlags;
    private final boolean inCompose;

    ProcessKind(String service, List<String> command, Set<String> instanceFlags, boolean inCompose) {
        this.service = service;
        this.command = command;
        this.instanceFlags = instanceFlags;
        this.inCompose = inCompose;
    }

    /** Its name: the compose service's, the prefix of its processes' names and the stem of its config file. */
    public String service() {
        return service;
    }

    /** The {@code rlhf} subcommand it runs ({@code train-rm --online}). */
    public List<String> command() {
        return command;
    }

    /**
     * Flags (each with one value) that differ between instances of the kind in one stack: a worker's stable id (its
     * transactional id, so a restarted worker fences its predecessor), a scorer's state directory. Compose replicas
     * leave them to their defaults (host-pid ids, the container's own disk).
     */
    public Set<String> instanceFlags() {
        return instanceFlags;
    }

    /** Whether {@code compose/docker-compose.yml} runs it as a service of the rlhf image. */
    public boolean inCompose() {
        return inCompose;
    }

    /** The kind whose {@link #service()} is {@code name}. */
    public static ProcessKind ofService(String name) {
        for (ProcessKind k : values()) {
            if (k.service.equals(name)) {
                return k;
            }
        }
        throw new IllegalArgumentException("no process kind named '" + name + "'");
    }
}
