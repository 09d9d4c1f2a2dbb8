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

/**
 * Test support for the stack ITs: runs the runnable jar ({@code target/rlhf.jar}, built by {@code package}) as an
 * operator does, {@code rlhf stack up} in its own JVM, and drives it through {@code rlhf stack status|add|remove|down},
 * remembering every process the stack started so that a failed test leaves none behind.
 */
final class StackDriver implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path work;
    private final Path dir;
    private final Path err;
    private final Map<Long, ProcessHandle> seen = new ConcurrentHashMap<>();
    private Process stack;
    private Long stoppedPid;

    /**
     * @param work a scratch directory: the stack runs in {@code work/stack}, its stderr goes to {@code work/stack.err}
     */
    StackDriver(Path work) {
        this.work = work;
        this.dir = work.resolve("stack");
        this.err = work.resolve("stack.err");
    }

    /** The runnable jar the ITs run. */
    static Path jar() {
        return Path.of("target", "rlhf.jar");
    }

    /** The stack's directory. */
    Path dir() {
        return dir;
    }

    /** {@code rlhf stack up --dir DIR ARGS}, in the background. */
    Process up(String... args) throws IOException {
        List<String> all = new ArrayList<>(List.of("stack", "up", "--dir", dir.toString()));
        all.addAll(List.of(args));
        stack = start(work.resolve("stack.out"), err, all.toArray(String[]::new));
        return stack;
    }

    /** The {@code rlhf stack up} process. */
    Process stack() {
        return stack;
    }

    /** What {@code rlhf stack up} wrote to stderr so far. */
    String stderr() throws IOException {
        return Files.exists(err) ? Files.readString(err) : "";
    }

    /** Remembers every process the stack runs now (for {@link #close()} and {@link #everyProcessEnded}). */
    void noteProcesses() {
        if (stack != null) {
            stack.descendants().forEach(p -> seen.put(p.pid(), p));
        }
    }

    /** Polls {@code rlhf stack status --json} until {@code done}; fails with the stack's stderr on timeout. */
    JsonNode awaitStatus(Duration timeout, Predicate<JsonNode> done) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            assertThat(stack.isAlive()).as("rlhf stack up runs; stderr:%n%s", stderr()).isTrue();
            noteProcesses();
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
            // each status is a JVM of its own with Kafka clients: polled every second it takes most of a core of two
            Thread.sleep(2000);
        }
        throw new AssertionError("timed out after " + timeout.toSeconds() + " s; last status " + last
                + "; stack stderr:\n" + stderr());
    }

    /**
     * Runs {@code rlhf stack ARGS --dir DIR} (add, remove, down) to its end.
     *
     * @return its exit status, stdout and stderr
     */
    Result run(Duration timeout, String... args) throws Exception {
        noteProcesses();
        List<String> all = new ArrayList<>(List.of("stack"));
        all.addAll(List.of(args));
        all.addAll(List.of("--dir", dir.toString()));
        String stem = String.join("-", args).replaceAll("[^A-Za-z0-9-]", "_");
        Path out = work.resolve(stem + ".out");
        Path errFile = work.resolve(stem + ".err");
        Process p = start(out, errFile, all.toArray(String[]::new));
        assertThat(p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)).as("rlhf %s returned", all).isTrue();
        return new Result(p.exitValue(), Files.readString(out), Files.readString(errFile));
    }

    /** What a command printed, and its exit status. */
    record Result(int exit, String out, String err) {
    }

    /** Sends {@code signal} (STOP, CONT, ...) to {@code pid}; a SIGSTOPped pid gets SIGCONT on {@link #close()}. */
    void signal(String signal, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        stoppedPid = "STOP".equals(signal) ? Long.valueOf(pid) : (Long.valueOf(pid).equals(stoppedPid) ? null
                : stoppedPid);
    }

    /** Waits up to {@code timeout} for every process the stack ran to end; whether they all did. */
    boolean everyProcessEnded(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (seen.values().stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        return seen.values().stream().noneMatch(ProcessHandle::isAlive);
    }

    /** How many processes the stack was seen running, over the test. */
    int processesSeen() {
        return seen.size();
    }

    /** Kills whatever is left: the stack, its descendants, every process it was seen running. */
    @Override
    public void close() throws Exception {
        if (stoppedPid != null) {
            signal("CONT", stoppedPid);
        }
        if (stack != null && stack.isAlive()) {
            stack.descendants().forEach(ProcessHandle::destroyForcibly);
            stack.destroyForcibly();
        }
        seen.values().forEach(ProcessHandle::destroyForcibly);
    }

    /** The process named {@code name} in a status. */
    static JsonNode process(JsonNode status, String name) {
        for (JsonNode p : status.get("processes")) {
            if (p.get("name").asText().equals(name)) {
                return p;
            }
        }
        throw new AssertionError("no process " + name + " in " + status);
    }

    /** Whether a status lists a process named {@code name}. */
    static boolean has(JsonNode status, String name) {
        for (JsonNode p : status.get("processes")) {
            if (p.get("name").asText().equals(name)) {
                return true;
            }
        }
        return false;
    }

    /** The processes' names in a status, in order. */
    static List<String> names(JsonNode status) {
        List<String> names = new ArrayList<>();
        status.get("processes").forEach(p -> names.add(p.get("name").asText()));
        return names;
    }

    /** {@code java -jar target/rlhf.jar ARGS} with its output in files. */
    static Process start(Path out, Path err, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1500m", "-Dai.djl.offline=true"));
        String djlCache = System.getProperty("DJL_CACHE_DIR");
        if (djlCache != null) {
            cmd.add("-DDJL_CACHE_DIR=" + djlCache);
        }
        cmd.addAll(List.of("-jar", jar().toAbsolutePath().toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("OPT_OUT_TRACKING", "true");
        return pb.start();
    }
}
