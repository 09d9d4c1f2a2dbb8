package io.streamrlhf.embedded;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stopping a child process and everything it started: SIGTERM to it and its descendants, up to a grace period for it
 * to exit (its shutdown hooks run), then SIGKILL and a short wait; descendants still alive are killed. The embedded
 * registry and the loop's child JVMs stop this way.
 */
public final class ChildProcess {

    private static final Logger LOG = LoggerFactory.getLogger(ChildProcess.class);
    /** How long to wait for a killed process to be gone (SIGKILL cannot be refused; this only bounds a slow kernel). */
    static final Duration KILL_WAIT = Duration.ofSeconds(10);

    private ChildProcess() {
    }

    /**
     * Stops {@code process} and its descendants: politely, then forcibly. An interrupt while waiting kills it at once
     * (and is kept on the thread).
     *
     * @param process the child
     * @param name    what it is, for the log ("Schema registry", "reward-model trainer")
     * @param grace   how long it may take to exit after SIGTERM
     * @return whether it exited on the polite request within {@code grace}
     */
    public static boolean stop(Process process, String name, Duration grace) {
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroy();
        descendants.forEach(ProcessHandle::destroy);
        boolean graceful = true;
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                graceful = false;
                LOG.warn("{} (pid {}) did not stop within {} s; killing it", name, process.pid(), grace.toSeconds());
                process.destroyForcibly();
                process.waitFor(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            graceful = false;
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        for (ProcessHandle d : descendants) {
            if (d.isAlive()) {
                d.destroyForcibly();
            }
        }
        return graceful;
    }
}
