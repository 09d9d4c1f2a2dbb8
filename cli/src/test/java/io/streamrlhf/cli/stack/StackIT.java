package io.streamrlhf.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rlhf stack up} end to end, as an operator runs it: the runnable jar in its own JVM with its own cluster, one
 * worker, one scorer and one learner as processes of their own, synthetic prompts, a tiny SFT policy. The policy
 * versions come; a worker killed with SIGKILL is restarted by the stack and the versions keep coming; {@code rlhf
 * stack down} stops the stack and every process it started.
 */
class StackIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path work;

    private Process stack;
    private final Map<Long, ProcessHandle> seen = new ConcurrentHashMap<>();

    @BeforeAll
    static void jarExists() {
        assertThat(Path.of("target", "rlhf.jar")).as("the runnable jar built by 'package'").exists();
    }

    @AfterEach
    void killLeftovers() {
        if (stack != null && stack.isAlive()) {
            stack.descendants().forEach(ProcessHandle::destroyForcibly);
            stack.destroyForcibly();
        }
        seen.values().forEach(ProcessHandle::destroyForcibly);
    }

    @Test
    void versionsComeAKilledWorkerIsRestartedAndDownStopsEverything() throws Exception {
        Path dir = work.resolve("stack");
        Path err = work.resolve("stack.err");
        stack = start(work.resolve("stack.out"), err, "stack", "up", "--dir", dir.toString(), "--workers", "1",
                "--scorers", "1", "--learners", "1", "--rm-trainers", "0", "--synthetic-prompts", "2",
                "--sft-steps", "40", "--preference-pairs", "160", "--rm-epochs", "1", "--rm-ensemble", "2",
                "--batch", "32", "--max-new-tokens", "24", "--cache-dir", work.resolve("cache").toString());

        // The learner commits its group's offsets (for monitoring) one checkpoint behind: its lag shows from then on.
        JsonNode status = awaitStatus(dir, err, Duration.ofSeconds(180), s -> s.get("policy_version").asLong() >= 2
                && process(s, "learn-0").get("lag").isNumber());
        assertThat(names(status)).containsExactly("cluster", "learn-0", "score-0", "worker-0", "prompts");
        JsonNode worker = process(status, "worker-0");
        assertThat(worker.get("alive").asBoolean()).isTrue();
        assertThat(worker.get("restarts").asInt()).isZero();
        assertThat(worker.get("policy_version").asLong()).isGreaterThanOrEqualTo(2);
        assertThat(worker.get("command").toString()).contains("\"worker\"", "\"--config\"", "worker.properties");
        assertThat(process(status, "learn-0").get("lag").isNumber()).as("the learner's group lag in %s", status)
                .isTrue();
        assertThat(process(status, "score-0").get("group").asText()).isNotBlank();
        assertThat(dir.resolve("conf").resolve("learn.properties")).exists();
        assertThat(dir.resolve("logs").resolve("worker-0.log")).exists();

        long killedPid = worker.get("pid").asLong();
        long versionAtKill = status.get("policy_version").asLong();
        ProcessHandle.of(killedPid).orElseThrow().destroyForcibly();  // SIGKILL, as the OOM killer would

        JsonNode restarted = awaitStatus(dir, err, Duration.ofSeconds(60), s -> {
            JsonNode w = process(s, "worker-0");
            return w.get("restarts").asInt() == 1 && w.get("alive").asBoolean() && w.get("pid").asLong() != killedPid;
        });
        assertThat(process(restarted, "worker-0").get("restarts").asInt()).isEqualTo(1);
        JsonNode later = awaitStatus(dir, err, Duration.ofSeconds(90),
                s -> s.get("policy_version").asLong() >= versionAtKill + 2);
        assertThat(later.get("policy_version").asLong()).as("versions keep coming after the restart")
                .isGreaterThanOrEqualTo(versionAtKill + 2);
        for (String name : List.of("cluster", "learn-0", "score-0", "prompts")) {
            assertThat(process(later, name).get("restarts").asInt()).as("%s restarts", name).isZero();
        }

        stack.descendants().forEach(p -> seen.put(p.pid(), p));
        Process down = start(work.resolve("down.out"), work.resolve("down.err"), "stack", "down", "--dir",
                dir.toString());
        assertThat(down.waitFor(3, TimeUnit.MINUTES)).as("stack down returned").isTrue();
        assertThat(down.exitValue()).as("stack down: %s", Files.readString(work.resolve("down.err"))).isZero();
        assertThat(stack.isAlive()).as("rlhf stack up exited").isFalse();
        // SIGTERM ends a JVM with 128 + 15 once its shutdown hook (the orderly stop) has run.
        assertThat(stack.exitValue()).as("stack up's exit status; stderr:%n%s", Files.readString(err)).isEqualTo(143);
        assertThat(Files.readString(err)).contains("rlhf stack: stopping every process");
        assertThat(seen).as("processes the stack started").hasSizeGreaterThanOrEqualTo(5);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (seen.values().stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(seen.values()).as("every process of the stack ended").noneMatch(ProcessHandle::isAlive);
        JsonNode stopped = JSON.readTree(Files.readString(dir.resolve("stack.json")));
        assertThat(stopped.get("phase").asText()).isEqualTo("stopped");
    }

    /** Polls {@code rlhf stack status --json} until {@code done}; fails with the stack's stderr on timeout. */
    private JsonNode awaitStatus(Path dir, Path err, Duration timeout, Predicate<JsonNode> done) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            assertThat(stack.isAlive()).as("rlhf stack up runs; stderr:%n%s", Files.readString(err)).isTrue();
            stack.descendants().forEach(p -> seen.put(p.pid(), p));
            if (Files.exists(dir.resolve("stack.json"))) {
                Path out = work.resolve("status.out");
                Process p = start(out, work.resolve("status.err"), "stack", "status", "--dir", dir.toString(),
                        "--json");
                if (p.waitFor(60, TimeUnit.SECONDS)) {
                    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
                    if (!lines.isEmpty() && lines.get(lines.size() - 1).startsWith("{")) {
                        last = JSON.readTree(lines.get(lines.size() - 1));
                        if (done.test(last)) {
                            return last;
                        }
                    }
                } else {
                    p.destroyForcibly();
                }
            }
            Thread.sleep(2000);
        }
        throw new AssertionError("timed out after " + timeout.toSeconds() + " s; last status " + last
                + "; stack stderr:\n" + Files.readString(err));
    }

    private static JsonNode process(JsonNode status, String name) {
        for (JsonNode p : status.get("processes")) {
            if (p.get("name").asText().equals(name)) {
                return p;
            }
        }
        throw new AssertionError("no process " + name + " in " + status);
    }

    private static List<String> names(JsonNode status) {
        List<String> names = new ArrayList<>();
        status.get("processes").forEach(p -> names.add(p.get("name").asText()));
        return names;
    }

    private static Process start(Path out, Path err, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1500m", "-Dai.djl.offline=true"));
        String djlCache = System.getProperty("DJL_CACHE_DIR");
        if (djlCache != null) {
            cmd.add("-DDJL_CACHE_DIR=" + djlCache);
        }
        cmd.addAll(List.of("-jar", Path.of("target", "rlhf.jar").toAbsolutePath().toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("OPT_OUT_TRACKING", "true");
        return pb.start();
    }
}
