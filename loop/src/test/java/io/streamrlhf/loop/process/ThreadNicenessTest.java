package io.streamrlhf.loop.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ThreadNicenessTest {

    @Test
    void matchesTheFifteenCharactersLinuxKeepsOfAThreadName() {
        ThreadNiceness n = new ThreadNiceness(5, List.of("policy-sampler-", "reward-scorer-"), Path.of("/none"), null);
        assertThat(ThreadNiceness.nativeName("policy-sampler-demo-worker")).isEqualTo("policy-sampler-");
        assertThat(n.matches("policy-sampler-")).isTrue();
        assertThat(n.matches("reward-scorer-0")).isTrue();
        assertThat(n.matches("demo-learner")).isFalse();
        assertThat(n.matches("policy-worker-d")).isFalse();
        assertThatThrownBy(() -> new ThreadNiceness(20, List.of("x"), Path.of("/none"), null))
                .hasMessageContaining("0-19");
    }

    @Test
    void renicesEachMatchingThreadOnceByItsId(@TempDir Path dir) throws Exception {
        Path tasks = dir.resolve("task");
        thread(tasks, "101", "policy-sampler-");
        thread(tasks, "102", "demo-learner");
        thread(tasks, "103", "reward-scorer-0");
        Path calls = dir.resolve("calls");
        Path renice = dir.resolve("renice");
        Files.writeString(renice, "#!/bin/sh\nprintf '%s\\n' \"$*\" >> " + calls + "\n");
        Files.setPosixFilePermissions(renice, PosixFilePermissions.fromString("rwx------"));
        ThreadNiceness n = new ThreadNiceness(5, List.of("policy-sampler-", "reward-scorer-"), tasks, renice);

        assertThat(n.apply()).isEqualTo(2);
        assertThat(Files.readAllLines(calls)).containsExactlyInAnyOrder("-n 5 -p 101", "-n 5 -p 103");
        assertThat(n.apply()).as("nothing new").isZero();
        thread(tasks, "104", "reward-scorer-1");
        assertThat(n.apply()).as("a thread that started later").isEqualTo(1);
        assertThat(n.reniced()).isEqualTo(3);
        assertThat(Files.readAllLines(calls)).hasSize(3).contains("-n 5 -p 104");
    }

    @Test
    void offOrWithoutReniceItChangesNothing(@TempDir Path dir) throws Exception {
        Path tasks = dir.resolve("task");
        thread(tasks, "101", "policy-sampler-");
        assertThat(new ThreadNiceness(0, List.of("policy-sampler-"), tasks, Path.of("/bin/false")).apply()).isZero();
        assertThat(new ThreadNiceness(5, List.of("policy-sampler-"), tasks, null).apply()).isZero();
        assertThat(new ThreadNiceness(5, List.of("policy-sampler-"), tasks, Path.of("/bin/false")).apply())
                .as("a refused renice is not counted").isZero();
    }

    @Test
    void onLinuxItRenicesALiveThreadOfThisJvm() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")) && ChildJvm.onPath("renice") != null,
                "needs Linux's /proc and renice");
        Thread sleeper = new Thread(() -> {
            try {
                Thread.sleep(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "nice-test-sleeper");
        sleeper.setDaemon(true);
        sleeper.start();
        try {
            // The JVM gives a thread its native name from inside the thread, after start() returns.
            String tid = null;
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (tid == null && System.nanoTime() < deadline) {
                tid = nativeThreadId(ThreadNiceness.nativeName("nice-test-sleeper"));
                if (tid == null) {
                    Thread.sleep(10);
                }
            }
            assertThat(tid).as("the thread's native name").isNotNull();
            // Only raising a nice value needs no privileges, and a build may already run niced: aim above it.
            int target = Math.min(19, nice(tid) + 3);
            assumeTrue(target > nice(tid), "this JVM already runs at nice 19");
            ThreadNiceness n = new ThreadNiceness(target, List.of("nice-test-sleeper"));
            int reniced = n.apply();
            if (reniced == 0) {
                // A container may forbid setpriority altogether: say so rather than fail on it.
                Process p = new ProcessBuilder(ChildJvm.onPath("renice").toString(), "-n", Integer.toString(target),
                        "-p", tid).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes()).strip();
                assumeTrue(p.waitFor() == 0, "renice is refused here: " + out);
            }
            assertThat(reniced).isEqualTo(1);
            assertThat(nice(tid)).isEqualTo(target);
        } finally {
            sleeper.interrupt();
        }
    }

    private static String nativeThreadId(String comm) throws Exception {
        try (var ids = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : ids.toList()) {
                try {
                    if (Files.readString(task.resolve("comm")).strip().equals(comm)) {
                        return task.getFileName().toString();
                    }
                } catch (java.io.IOException e) {
                    // that thread ended meanwhile
                }
            }
        }
        return null;
    }

    /** Field 19 of /proc/PID/task/TID/stat (the 17th after the parenthesised name) is the thread's nice value. */
    private static int nice(String tid) throws Exception {
        String stat = Files.readString(Path.of("/proc/self/task", tid, "stat"));
        return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16]);
    }

    private static void thread(Path tasks, String tid, String comm) throws Exception {
        Files.createDirectories(tasks.resolve(tid));
        Files.writeString(tasks.resolve(tid).resolve("comm"), comm + "\n");
    }
}
