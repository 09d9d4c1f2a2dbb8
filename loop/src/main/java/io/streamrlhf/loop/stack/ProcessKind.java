package io.streamrlhf.loop.stack;

import java.util.List;
import java.util.Set;

/**
 * The kinds of process a stack runs, each the very {@code rlhf} command a deployment runs for that component, with
 * the name of its service in {@code compose/docker-compose.yml} and, on a secure cluster, the user it runs as
 * ({@code ComponentAcls} in the cli module grants each user exactly its component's topics, groups and transactional
 * ids).
 */
public enum ProcessKind {
    /** The stack's own Kafka broker and schema registry ({@code rlhf cluster up}); compose has its own. */
    CLUSTER("cluster", List.of("cluster", "up"), Set.of(), false, null),
    /**
     * One Kafka node of the stack's own cluster of several brokers, a process of its own ({@code rlhf cluster node}),
     * so that a broker can die and be restarted alone.
     */
    BROKER("broker", List.of("cluster", "node"), Set.of("--node-id"), false, null),
    /** The stack's own schema registry beside its {@link #BROKER} processes ({@code rlhf cluster registry}). */
    REGISTRY("registry", List.of("cluster", "registry"), Set.of(), false, null),
    /** A policy worker: prompts → generations. */
    WORKER("worker", List.of("worker"), Set.of("--worker-id"), true, "worker"),
    /** A reward-stream instance: generations → scored, feedback → preferences. */
    SCORER("score", List.of("score"), Set.of("--state-dir"), true, "scorer"),
    /** The PPO learner: scored → policy versions. */
    LEARNER("learn", List.of("learn"), Set.of(), true, "learner"),
    /** The online reward-model trainer: preferences → rm.versions. */
    RM_TRAINER("train-rm", List.of("train-rm", "--online"), Set.of(), true, "rm-trainer"),
    /**
     * The feedback API and rater page ({@code rlhf feedback serve}): labels → feedback. Its port, bind address and
     * rate limit are the deployment's: a stack serves on loopback at a port of its own, compose on 0.0.0.0:8088 for
     * people (with annotator tokens).
     */
    FEEDBACK("feedback", List.of("feedback", "serve"), Set.of("--port", "--bind", "--rate", "--burst"), true,
            "feedback"),
    /**
     * Simulated raters: generations → labels, posted to the stack's {@link #FEEDBACK} server ({@code --api URL}); in
     * compose, whose feedback API needs annotator tokens, they write the feedback topic themselves.
     */
    RATERS("raters", List.of("feedback", "simulate"), Set.of("--api"), true, "feedback"),
    /** The prompt feed: a file once, or synthetic prompts at a rate. */
    PROMPTS("prompts", List.of("prompts", "send"), Set.of(), true, "evaluator");

    private final String service;
    private final List<String> command;
    private final Set<String> instanceFlags;
    private final boolean inCompose;
    private final String user;

    ProcessKind(String service, List<String> command, Set<String> instanceFlags, boolean inCompose, String user) {
        this.service = service;
        this.command = command;
        this.instanceFlags = instanceFlags;
        this.inCompose = inCompose;
        this.user = user;
    }

    /**
     * The user it runs as on a secure cluster, also the stem of its client properties file ({@code rlhf cluster up
     * --secure} writes {@code <user>.properties}); null for the cluster's own processes.
     */
    public String user() {
        return user;
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
     * Flags (each with one value) that differ between instances of the kind in one stack, or between a stack and
     * compose: a worker's stable id (its transactional id, so a restarted worker fences its predecessor), a scorer's
     * state directory, the feedback server's port, bind address and rate limit, the raters' feedback API. Compose
     * replicas leave the first two to their defaults (<host>-w<n> worker ids, the container's own disk).
     */
    public Set<String> instanceFlags() {
        return instanceFlags;
    }

    /** Whether {@code compose/docker-compose.yml} runs it as a service of the rlhf image. */
    public boolean inCompose() {
        return inCompose;
    }

    /** Whether {@code rlhf stack add} and {@code rlhf stack remove} may start and stop its processes on a running stack. */
    public boolean scalable() {
        return this == WORKER || this == SCORER;
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
