package io.streamrlhf.loop.chaos;

import io.streamrlhf.loop.stack.ProcessKind;
import java.util.Locale;

/**
 * What a chaos run kills: each kind of stack process, with the learners split into the active one (holding the lease)
 * and those standing by, since killing either tests something else (a takeover, or nothing to notice).
 */
public enum ChaosKind {
    /** A policy worker. */
    WORKER(ProcessKind.WORKER),
    /** A reward-stream instance. */
    SCORER(ProcessKind.SCORER),
    /** The learner holding the lease: a standby must take over. */
    ACTIVE_LEARNER(ProcessKind.LEARNER),
    /** A learner standing by. */
    STANDBY_LEARNER(ProcessKind.LEARNER),
    /** The online reward-model trainer. */
    RM_TRAINER(ProcessKind.RM_TRAINER),
    /**
     * The feedback server ({@code rlhf feedback serve}): the simulated raters post their labels through it, each
     * label once under its own id, so a label caught by the kill is on the topic once or not at all.
     */
    FEEDBACK(ProcessKind.FEEDBACK),
    /** The prompt feed. */
    PROMPTS(ProcessKind.PROMPTS),
    /** One Kafka broker of three. */
    BROKER(ProcessKind.BROKER),
    /** The schema registry: an outage until it is back. */
    REGISTRY(ProcessKind.REGISTRY);

    private final ProcessKind process;

    ChaosKind(ProcessKind process) {
        this.process = process;
    }

    /** The stack process kind it kills. */
    public ProcessKind process() {
        return process;
    }

    /** Its name in reports and on the command line ({@code active_learner}). */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether it is part of the cluster, of which one member at a time is down. */
    public boolean cluster() {
        return this == BROKER || this == REGISTRY;
    }

    /** The kind whose {@link #key()} is {@code key}. */
    public static ChaosKind of(String key) {
        for (ChaosKind k : values()) {
            if (k.key().equals(key.trim().toLowerCase(Locale.ROOT))) {
                return k;
            }
        }
        throw new IllegalArgumentException("no kind of process named '" + key + "' to kill; kinds: "
                + java.util.Arrays.stream(values()).map(ChaosKind::key).toList());
    }
}
