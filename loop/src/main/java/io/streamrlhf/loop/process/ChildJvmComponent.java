package io.streamrlhf.loop.process;

import io.streamrlhf.loop.supervision.LoopFailureException;
import io.streamrlhf.loop.supervision.SupervisedComponent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A component that runs as an OS process of its own: a {@link ChildJvm} running one command of the services' main
 * class (the {@code rlhf} launcher's {@code train-rm --online}, {@code learn}, ...). It fails when the process exits
 * without being asked to, with the tail of its log in the message; its stop is SIGTERM, a grace period, then SIGKILL.
 */
public final class ChildJvmComponent implements SupervisedComponent {

    /** Lines of the child's log quoted in a failure message. */
    static final int LOG_TAIL_LINES = 15;

    private final String name;
    private final Launch launch;
    private final Duration stopGrace;
    private volatile ChildJvm process;

    /**
     * How to start the child JVM.
     *
     * @param maxHeapMb its -Xmx
     * @param niceness  added to its nice value (0: this process's priority)
     * @param idleClass under Linux's {@code SCHED_IDLE} where allowed, else at {@code niceness}
     * @param log       file receiving its stdout and stderr
     * @param mainClass its main class
     * @param args      its arguments
     */
    public record Launch(int maxHeapMb, int niceness, boolean idleClass, Path log, String mainClass,
                         List<String> args) {
        public Launch {
            Objects.requireNonNull(log, "log");
            Objects.requireNonNull(mainClass, "mainClass");
            args = List.copyOf(args);
        }
    }

    /**
     * @param name      what it is, for messages
     * @param launch    how its JVM is started
     * @param stopGrace how long {@link #stop()} waits after SIGTERM before SIGKILL
     */
    public ChildJvmComponent(String name, Launch launch, Duration stopGrace) {
        this.name = Objects.requireNonNull(name, "name");
        this.launch = Objects.requireNonNull(launch, "launch");
        this.stopGrace = Objects.requireNonNull(stopGrace, "stopGrace");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void start() {
        process = ChildJvm.start(name, launch.maxHeapMb(), launch.niceness(), launch.idleClass(), launch.log(),
                launch.mainClass(), launch.args());
    }

    @Override
    public void check() {
        ChildJvm p = process;
        if (p != null && p.diedUnexpectedly()) {
            throw new LoopFailureException("the " + name + " (child process pid " + p.pid() + ") exited with status "
                    + p.exitValue() + "; last lines of its log " + p.log() + ":" + System.lineSeparator()
                    + p.logTail(LOG_TAIL_LINES));
        }
    }

    /**
     * CPU seconds the process has used so far (remembered: a process's CPU time cannot be read once it has gone);
     * 0 before it started.
     */
    public double cpuSeconds() {
        ChildJvm p = process;
        return p == null ? 0 : p.cpuSeconds();
    }

    /** Sends SIGTERM and returns at once: it finishes in the background while the rest stops. */
    public void requestStop() {
        ChildJvm p = process;
        if (p != null) {
            p.requestStop();
        }
    }

    @Override
    public void stop() {
        ChildJvm p = process;
        if (p != null) {
            p.stop(stopGrace);
        }
    }
}
