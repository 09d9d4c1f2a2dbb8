package io.streamrlhf.loop.process;

import io.streamrlhf.loop.supervision.LoopFailureException;
import io.streamrlhf.loop.supervision.SupervisedComponent;
import java.time.Duration;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A component run as an OS process of its own that is restarted when it exits: a service ({@code rlhf worker},
 * {@code rlhf learn}, ...) is expected to run until stopped, so an exit, whatever its status, is a failure that a
 * restart repairs (Kafka carries the state: transactions fence the dead process's work, group offsets and checkpoints
 * say where to resume). Restarts back off exponentially, from {@link #FIRST_BACKOFF} doubling to {@link #MAX_BACKOFF},
 * so a process that cannot start does not spin; once one has run for {@link #STABLE_AFTER} the back-off starts over.
 *
 * <p>{@link Restart} says which exits are repaired: a one-shot process (a prompt file sent once) is done when it exits
 * with status 0 and is restarted only on a failure; an essential one (the stack's own Kafka cluster, whose ports and
 * schema ids the others hold) is never restarted, and its exit fails the run. {@link #check()} does the restarting; it
 * throws only for an essential process's exit or when it cannot start a new process.
 */
public final class RestartingChildJvm implements SupervisedComponent {

    private static final Logger LOG = LoggerFactory.getLogger(RestartingChildJvm.class);
    /** The wait before the first restart. */
    public static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    /** The longest wait between restarts. */
    public static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    /** A process that ran this long without exiting resets the back-off. */
    public static final Duration STABLE_AFTER = Duration.ofSeconds(60);

    private final String name;
    private final ChildJvmComponent.Launch launch;
    private final Duration stopGrace;
    private final Restart restart;
    private final LongSupplier clock;
    private volatile ChildJvm process;
    private volatile int restarts;
    private volatile boolean done;
    private volatile Integer lastExit;
    private long startedAt;
    private long restartAt = -1;
    private Duration backoff = FIRST_BACKOFF;

    /**
     * @param name      what it is ("worker-0"), for messages and logs
     * @param launch    how its JVM is started
     * @param stopGrace how long {@link #stop()} waits after SIGTERM before SIGKILL
     * @param restart   which of its exits are repaired by a restart
     */
    public RestartingChildJvm(String name, ChildJvmComponent.Launch launch, Duration stopGrace, Restart restart) {
        this(name, launch, stopGrace, restart, System::nanoTime);
    }

    RestartingChildJvm(String name, ChildJvmComponent.Launch launch, Duration stopGrace, Restart restart,
                       LongSupplier clock) {
        this.name = Objects.requireNonNull(name, "name");
        this.launch = Objects.requireNonNull(launch, "launch");
        this.stopGrace = Objects.requireNonNull(stopGrace, "stopGrace");
        this.restart = Objects.requireNonNull(restart, "restart");
        this.clock = clock;
    }

    @Override
    public String name() {
        return name;
    }

    /** How it is started. */
    public ChildJvmComponent.Launch launch() {
        return launch;
    }

    @Override
    public synchronized void start() {
        launchNow();
    }

    private void launchNow() {
        try {
            process = ChildJvm.start(name, launch.maxHeapMb(), launch.niceness(), launch.idleClass(), launch.log(),
                    launch.mainClass(), launch.args());
        } catch (RuntimeException e) {
            throw new LoopFailureException("cannot start " + name + ": " + LoopFailureException.describe(e), e);
        }
        startedAt = clock.getAsLong();
    }

    /** Restarts the process once its back-off has passed, if it exited; notes a one-shot process's success. */
    @Override
    public synchronized void check() {
        ChildJvm p = process;
        if (p == null || done || !p.diedUnexpectedly()) {
            return;
        }
        long now = clock.getAsLong();
        if (restartAt < 0) {
            int status = p.exitValue();
            lastExit = status;
            if (restart == Restart.NEVER) {
                done = true;
                throw new LoopFailureException("the " + name + " (pid " + p.pid() + ") exited with status " + status
                        + "; last lines of its log " + p.log() + ":" + System.lineSeparator()
                        + p.logTail(ChildJvmComponent.LOG_TAIL_LINES));
            }
            if (restart == Restart.ON_FAILURE && status == 0) {
                done = true;
                LOG.info("{} (pid {}) finished", name, p.pid());
                return;
            }
            if (now - startedAt >= STABLE_AFTER.toNanos()) {
                backoff = FIRST_BACKOFF;
            }
            restartAt = now + backoff.toNanos();
            LOG.warn("{} (pid {}) exited with status {}; restarting in {} ms (log {}):{}{}", name, p.pid(), status,
                    backoff.toMillis(), p.log(), System.lineSeparator(), p.logTail(ChildJvmComponent.LOG_TAIL_LINES));
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
        if (now >= restartAt) {
            restartAt = -1;
            restarts++;
            launchNow();
        }
    }

    /** Its current process id; -1 before it started. */
    public long pid() {
        ChildJvm p = process;
        return p == null ? -1 : p.pid();
    }

    /** Whether its process runs now (false between an exit and the restart). */
    public boolean alive() {
        ChildJvm p = process;
        return p != null && !p.diedUnexpectedly() && !done && ProcessHandle.of(p.pid()).map(ProcessHandle::isAlive)
                .orElse(false);
    }

    /** How often it was restarted. */
    public int restarts() {
        return restarts;
    }

    /** Whether a one-shot process has finished. */
    public boolean done() {
        return done;
    }

    /** The exit status of its last exit, if it exited. */
    public OptionalInt lastExit() {
        Integer e = lastExit;
        return e == null ? OptionalInt.empty() : OptionalInt.of(e);
    }

    /** Sends SIGTERM and returns at once; {@link #stop()} then waits. */
    public void requestStop() {
        ChildJvm p = process;
        if (p != null) {
            p.requestStop();
        }
    }

    @Override
    public synchronized void stop() {
        ChildJvm p = process;
        if (p != null) {
            p.stop(stopGrace);
        }
    }

    /** Which exits of the process a restart repairs. */
    public enum Restart {
        /** Every exit: a service runs until stopped. */
        ALWAYS,
        /** Exits with a status other than 0: the process has a job to finish. */
        ON_FAILURE,
        /** None: the process is essential and its exit fails the run. */
        NEVER
    }
}
