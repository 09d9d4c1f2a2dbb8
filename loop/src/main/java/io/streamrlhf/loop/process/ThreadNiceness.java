package io.streamrlhf.loop.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lowers the CPU priority of some of this JVM's threads, picked by name, on Linux: {@code renice} on each thread's id
 * (a Linux thread has a nice value of its own). Raising a nice value needs no privileges. Best effort: where there is
 * no {@code /proc/self/task} or no {@code renice}, or a call fails, nothing changes and every thread keeps its nice value.
 *
 * <p>The demo uses it for the stages that have slack. The sampler and the reward stream's scorer work up to
 * {@code --backlog} batches ahead of the learner, while the learner's update is the loop's critical path. At the
 * default nice 15 they get about 3 % of a CPU they share with the learner (kernel weights 36 against 1024), instead
 * of half.
 *
 * <p>A Linux thread starts with the nice value of the thread that creates it, so only threads that create no others
 * (or whose children should yield as well) belong here: renicing the main thread would renice every thread it starts
 * later, the learner's included.
 */
public final class ThreadNiceness {

    private static final Logger LOG = LoggerFactory.getLogger(ThreadNiceness.class);
    /** Linux keeps the first 15 bytes of a thread's name ({@code /proc/.../comm}). */
    static final int NATIVE_NAME_LENGTH = 15;

    private final int niceness;
    private final List<String> prefixes;
    private final Path tasks;
    private final Path renice;
    private final Set<String> seen = new HashSet<>();
    private int reniced;

    /**
     * @param niceness the nice value to set (1–19); 0 turns this off
     * @param prefixes Java thread-name prefixes of the threads to renice
     */
    public ThreadNiceness(int niceness, List<String> prefixes) {
        this(niceness, prefixes, Path.of("/proc/self/task"), ChildJvm.onPath("renice"));
    }

    ThreadNiceness(int niceness, List<String> prefixes, Path tasks, Path renice) {
        if (niceness < 0 || niceness > 19) {
            throw new IllegalArgumentException("niceness must be 0-19 (0: off), got " + niceness);
        }
        this.niceness = niceness;
        this.prefixes = prefixes.stream().map(ThreadNiceness::nativeName).toList();
        this.tasks = tasks;
        this.renice = renice;
    }

    /** The name Linux shows for a thread named {@code javaName}: its first 15 characters. */
    static String nativeName(String javaName) {
        return javaName.length() <= NATIVE_NAME_LENGTH ? javaName : javaName.substring(0, NATIVE_NAME_LENGTH);
    }

    /** Whether a thread whose native name is {@code comm} is one of ours to renice. */
    boolean matches(String comm) {
        return prefixes.stream().anyMatch(comm::startsWith);
    }

    /**
     * Renices the matching threads not seen before (threads start lazily, so call it again later).
     *
     * @return how many threads it reniced in this call
     */
    public synchronized int apply() {
        if (niceness == 0 || renice == null || !Files.isDirectory(tasks)) {
            return 0;
        }
        int now = 0;
        try (DirectoryStream<Path> ids = Files.newDirectoryStream(tasks)) {
            for (Path task : ids) {
                String tid = task.getFileName().toString();
                if (seen.contains(tid)) {
                    continue;
                }
                String comm;
                try {
                    comm = Files.readString(task.resolve("comm"), StandardCharsets.UTF_8).strip();
                } catch (IOException e) {
                    continue;  // the thread ended meanwhile
                }
                if (!matches(comm)) {
                    continue;
                }
                seen.add(tid);  // once, whatever the outcome: a thread renice refused is not retried
                if (renice(tid)) {
                    now++;
                    LOG.debug("thread {} ({}) now at nice {}", tid, comm, niceness);
                }
            }
        } catch (IOException e) {
            LOG.debug("cannot list {}: {}", tasks, e.getMessage());
        }
        reniced += now;
        return now;
    }

    /** Threads reniced so far. */
    public synchronized int reniced() {
        return reniced;
    }

    private boolean renice(String tid) {
        try {
            Process p = new ProcessBuilder(renice.toString(), "-n", Integer.toString(niceness), "-p", tid)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            LOG.debug("renice of thread {} failed: {}", tid, e.getMessage());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
