package io.streamrlhf.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A child and its descendants are stopped politely when they listen, and killed when they do not. */
class ChildProcessTest {

    @Test
    void aChildThatHeedsSigtermStopsGracefully() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/bin/sh")), "needs /bin/sh");
        Process p = new ProcessBuilder("/bin/sh", "-c", "sleep 60 & wait").start();
        List<ProcessHandle> children = awaitChildren(p);
        assertThat(ChildProcess.stop(p, "sleeper", Duration.ofSeconds(10))).isTrue();
        assertThat(p.isAlive()).isFalse();
        awaitGone(children);
    }

    @Test
    void aChildThatIgnoresSigtermIsKilledWithItsDescendants() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/bin/sh")), "needs /bin/sh");
        // Ignored signals stay ignored in the children it starts.
        Process p = new ProcessBuilder("/bin/sh", "-c", "trap '' TERM; sleep 60 & wait").start();
        List<ProcessHandle> children = awaitChildren(p);
        long start = System.nanoTime();
        assertThat(ChildProcess.stop(p, "stubborn", Duration.ofMillis(300))).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("the grace period, then a kill")
                .isLessThan(Duration.ofSeconds(10));
        assertThat(p.isAlive()).isFalse();
        awaitGone(children);
    }

    private static List<ProcessHandle> awaitChildren(Process p) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        List<ProcessHandle> children = p.descendants().toList();
        while (children.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
            children = p.descendants().toList();
        }
        assertThat(children).as("the shell started its sleep").isNotEmpty();
        return children;
    }

    private static void awaitGone(List<ProcessHandle> processes) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (processes.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(processes).as("descendants").noneMatch(ProcessHandle::isAlive);
    }
}
