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
            ThreadNiceness n = new ThreadNiceness(7, List.of("nice-test-sleeper"));
            assertThat(n.apply()).isEqualTo(1);
            String tid = null;
            try (var ids = Files.list(Path.of("/proc/self/task"))) {
                for (Path task : ids.toList()) {
                    if (Files.readString(task.resolve("comm")).strip()
                            .equals(ThreadNiceness.nativeName("nice-test-sleeper"))) {
                        tid = task.getFileName().toString();
                    }
                }
            }
            assertThat(tid).as("the thread's native name").isNotNull();
            // Field 19 of /proc/PID/task/TID/stat is the nice value (after the parenthesised name).
            String stat = Files.readString(Path.of("/proc/self/task", tid, "stat"));
            String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            assertThat(after[16]).isEqualTo("7");
        } finally {
            sleeper.interrupt();
        }
    }

    private static void thread(Path tasks, String tid, String comm) throws Exception {
        Files.createDirectories(tasks.resolve(tid));
        Files.writeString(tasks.resolve(tid).resolve("comm"), comm + "\n");
    }
}
