package io.streamrlhf.loop.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import io.streamrlhf.loop.supervision.LoopFailureException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A child JVM started at a lower priority really runs at it, and its output lands in its log. */
class ChildJvmTest {

    /**
     * The child: prints its own nice value and scheduling policy (fields 19 and 41 of /proc/self/stat; policy 5 is
     * SCHED_IDLE) and exits.
     */
    public static final class PrintScheduling {
        public static void main(String[] args) throws Exception {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            System.out.println("nice=" + fields[16] + " policy=" + fields[38]);
        }
    }

    @Test
    void runsTheChildAtTheRequestedNiceness(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/stat")), "needs Linux's /proc");
        assumeTrue(ChildJvm.onPath("nice") != null, "needs nice on the PATH");
        int own = ownNice();
        Path log = dir.resolve("child.log");
        runToTheEnd(ChildJvm.start("nice probe", 64, 5, log, PrintScheduling.class.getName(), List.of()));
        assertThat(Files.readString(log)).contains("nice=" + Math.min(19, own + 5) + " policy=0");
    }

    @Test
    void runsTheChildUnderSchedIdleWhereLinuxAllows(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/stat")), "needs Linux's /proc");
        assumeTrue(ChildJvm.idleClassLauncher() != null, "needs chrt on the PATH, allowed to use SCHED_IDLE");
        Path log = dir.resolve("child.log");
        runToTheEnd(ChildJvm.start("policy probe", 64, 10, true, log, PrintScheduling.class.getName(), List.of()));
        assertThat(Files.readString(log)).contains("policy=5");
    }

    /** Waits up to a minute for the child to exit, and checks it exited cleanly. */
    private static void runToTheEnd(ChildJvm started) throws Exception {
        try (ChildJvm child = started) {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!child.diedUnexpectedly() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(child.exitValue()).as(child.logTail(20)).isZero();
        }
    }

    /** A child that writes a line and exits with status 3. */
    public static final class ExitThree {
        public static void main(String[] args) {
            System.out.println("about to fail");
            System.exit(3);
        }
    }

    @Test
    void aChildThatExitsByItselfFailsItsComponentWithItsLogTail(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("child.log");
        ChildJvmComponent component = new ChildJvmComponent("exit probe", new ChildJvmComponent.Launch(64, 0, false,
                log, ExitThree.class.getName(), List.of()), Duration.ofSeconds(5));
        component.check();  // not started: nothing to fail
        component.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                component.check();
                Thread.sleep(50);
            } catch (LoopFailureException e) {
                assertThat(e.getMessage()).startsWith("the exit probe (child process pid ")
                        .contains(") exited with status 3; last lines of its log " + log + ":")
                        .endsWith("about to fail");
                component.stop();
                return;
            }
        }
        throw new AssertionError("the child did not exit within a minute");
    }

    @Test
    void aChildAskedToStopIsNoFailure(@TempDir Path dir) throws Exception {
        ChildJvmComponent component = new ChildJvmComponent("sleeper", new ChildJvmComponent.Launch(64, 0, false,
                dir.resolve("child.log"), Sleep.class.getName(), List.of()), Duration.ofSeconds(20));
        component.start();
        Thread.sleep(500);
        assertThat(component.cpuSeconds()).as("a starting JVM uses CPU").isPositive();
        component.requestStop();
        component.stop();
        component.check();
    }

    /** A child that sleeps until it is stopped. */
    public static final class Sleep {
        public static void main(String[] args) throws InterruptedException {
            Thread.sleep(120_000);
        }
    }

    @Test
    void findsProgramsOnThePathOnly() {
        assertThat(ChildJvm.onPath("java-program-that-does-not-exist-" + System.nanoTime())).isNull();
        assumeTrue(Files.isExecutable(Path.of("/bin/sh")), "needs /bin/sh");
        assertThat(ChildJvm.onPath("sh")).isNotNull();
    }

    private static int ownNice() throws Exception {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16]);
    }
}
