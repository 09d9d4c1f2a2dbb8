package io.streamrlhf.loop.process;

import io.streamrlhf.embedded.ChildProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A component run in its own JVM, on this JVM's class path (the runnable jar's, or a test's), with its output in a
 * log file. Used for the reward-model trainer: DJL allows one training {@code GradientCollector} per JVM and the PPO
 * learner trains in the demo's own JVM, just as a real deployment runs them as separate services.
 *
 * <p>{@link #stop} sends SIGTERM (the component's shutdown hook finishes its round and closes its clients), waits, and
 * kills it if it has not gone; the process's own children are stopped too ({@link ChildProcess}).
 */
public final class ChildJvm implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ChildJvm.class);
    /**
     * System property: {@code true} starts every child with its whole heap committed and touched at start ({@code -Xms}
     * equal to {@code -Xmx}, {@code -XX:+AlwaysPreTouch}). A soak run sets it so that a child's resident memory is
     * flat from the start unless something outside the Java heap grows: otherwise the heap's own slow growth towards
     * its limit, which is bounded, hides or mimics a native leak. Children inherit it.
     */
    public static final String FIXED_HEAP = "rlhf.child.fixed.heap";

    /** System properties handed down so the child finds the same DJL natives offline, logs alike and sizes alike. */
    private static final List<String> INHERITED = List.of("ai.djl.offline", "DJL_CACHE_DIR",
            "ai.djl.pytorch.num_interop_threads", "logback.configurationFile", FIXED_HEAP);

    /** What {@link #idleClassLauncher()} found, once looked for. */
    private static Optional<Path> idleLauncher;

    private final String name;
    private final Path log;
    private final Process process;
    private volatile boolean stopping;
    private volatile double lastCpu;

    private ChildJvm(String name, Path log, Process process) {
        this.name = name;
        this.log = log;
        this.process = process;
    }

    /**
     * Starts {@code mainClass args} in a new JVM.
     *
     * @param name      what the component is, for messages
     * @param maxHeapMb the child's -Xmx
     * @param log       file receiving its stdout and stderr
     */
    public static ChildJvm start(String name, int maxHeapMb, Path log, String mainClass, List<String> args) {
        return start(name, maxHeapMb, 0, log, mainClass, args);
    }

    /**
     * Starts {@code mainClass args} in a new JVM at a lower scheduling priority.
     *
     * @param niceness added to the child's nice value (Unix {@code nice}; 0, or no {@code nice} on the PATH, runs it
     *                 at this process's priority): a background component takes the CPU the loop leaves
     */
    public static ChildJvm start(String name, int maxHeapMb, int niceness, Path log, String mainClass,
                                 List<String> args) {
        return start(name, maxHeapMb, niceness, false, log, mainClass, args);
    }

    /**
     * Starts {@code mainClass args} in a new JVM, in the background.
     *
     * @param niceness  added to the child's nice value (Unix {@code nice}; 0, or no {@code nice} on the PATH, runs it
     *                  at this process's priority): a background component takes the CPU the loop leaves
     * @param idleClass run it under Linux's {@code SCHED_IDLE} policy instead ({@code chrt --idle 0}, which needs no
     *                  privileges): it then runs only on CPU time no other thread wants, where a niced process still
     *                  gets a share. Falls back to {@code niceness} where {@code chrt} is missing or refused.
     */
    public static ChildJvm start(String name, int maxHeapMb, int niceness, boolean idleClass, Path log,
                                 String mainClass, List<String> args) {
        List<String> command = new ArrayList<>();
        Path chrt = idleClass ? idleClassLauncher() : null;
        Path nice = chrt == null && niceness > 0 ? onPath("nice") : null;
        if (chrt != null) {
            command.addAll(List.of(chrt.toString(), "--idle", "0"));
        } else if (nice != null) {
            command.addAll(List.of(nice.toString(), "-n", Integer.toString(niceness)));
        }
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx" + maxHeapMb + "m");
        if (Boolean.getBoolean(FIXED_HEAP)) {
            command.add("-Xms" + maxHeapMb + "m");
            command.add("-XX:+AlwaysPreTouch");
        }
        command.add("-XX:+UseSerialGC");
        command.add("-XX:TieredStopAtLevel=1");
        for (String key : INHERITED) {
            String value = System.getProperty(key);
            if (value != null) {
                command.add("-D" + key + "=" + value);
            }
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putIfAbsent("OPT_OUT_TRACKING", "true");
        // PyTorch's OpenMP threads spin at barriers; on a shared machine that starves the other components.
        builder.environment().putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
        try {
            Process p = builder.start();
            LOG.info("started {} as pid {} (log {})", name, p.pid(), log);
            return new ChildJvm(name, log, p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the " + name + " process: " + e.getMessage(), e);
        }
    }

    /** {@code chrt}, if it is on the PATH and may start a program under {@code SCHED_IDLE} here; else null. */
    public static synchronized Path idleClassLauncher() {
        if (idleLauncher == null) {
            Path chrt = onPath("chrt");
            Path probe = onPath("true");
            boolean works = false;
            if (chrt != null && probe != null) {
                try {
                    Process p = new ProcessBuilder(chrt.toString(), "--idle", "0", probe.toString())
                            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                    works = p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0;
                    if (p.isAlive()) {
                        p.destroyForcibly();
                    }
                } catch (IOException e) {
                    LOG.debug("chrt cannot start: {}", e.getMessage());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            idleLauncher = works ? Optional.of(chrt) : Optional.empty();
        }
        return idleLauncher.orElse(null);
    }

    /** An executable named {@code program} on the PATH, or null. */
    public static Path onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, program);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /** What the component is. */
    public String name() {
        return name;
    }

    /** The operating-system process id. */
    public long pid() {
        return process.pid();
    }

    /** CPU seconds it has used so far (the last figure seen once it has exited). */
    public double cpuSeconds() {
        process.info().totalCpuDuration().ifPresent(d -> lastCpu = d.toNanos() / 1e9);
        return lastCpu;
    }

    /** The log file. */
    public Path log() {
        return log;
    }

    /** Whether it exited without being asked to stop (a failure, whatever its status). */
    public boolean diedUnexpectedly() {
        return !stopping && !process.isAlive();
    }

    /** Its exit status, once exited. */
    public int exitValue() {
        return process.exitValue();
    }

    /** The last {@code n} lines of its log (for error messages). */
    public String logTail(int n) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join(System.lineSeparator(), lines.subList(Math.max(0, lines.size() - n), lines.size()));
        } catch (IOException | RuntimeException e) {
            return "(log " + log + " unreadable: " + e.getMessage() + ")";
        }
    }

    /** Sends SIGTERM and returns at once (its shutdown hook starts finishing); {@link #stop} then waits. */
    public void requestStop() {
        stopping = true;
        if (process.isAlive()) {
            process.destroy();
        }
    }

    /** SIGTERM, up to {@code grace} for it to finish, then SIGKILL (itself and its descendants). */
    public void stop(Duration grace) {
        stopping = true;
        if (process.isAlive()) {
            ChildProcess.stop(process, name, grace);
        }
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(30));
    }
}
