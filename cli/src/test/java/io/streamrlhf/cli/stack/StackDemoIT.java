package io.streamrlhf.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rlhf demo --processes} end to end: the demo as a stack of OS processes for a tiny budget, then a summary read
 * from the topics; every process it started is gone when it returns.
 */
class StackDemoIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path work;

    private Process demo;
    private final Map<Long, ProcessHandle> seen = new ConcurrentHashMap<>();

    @BeforeAll
    static void jarExists() {
        assertThat(Path.of("target", "rlhf.jar")).as("the runnable jar built by 'package'").exists();
    }

    @AfterEach
    void killLeftovers() {
        if (demo != null && demo.isAlive()) {
            demo.descendants().forEach(ProcessHandle::destroyForcibly);
            demo.destroyForcibly();
        }
        seen.values().forEach(ProcessHandle::destroyForcibly);
    }

    @Test
    void theSecureDemoRunsAsProcessesAndSummarisesWhatTheTopicsShow() throws Exception {
        Path report = work.resolve("report");
        Path out = work.resolve("demo.out");
        Path err = work.resolve("demo.err");
        // --secure: each process as its own user, the summary read as admin
        demo = start(out, err, "demo", "--processes", "--secure", "--minutes", "0.75", "--report", report.toString(), "--json",
                "--sft-steps", "40", "--preference-pairs", "160", "--rm-epochs", "1", "--rm-ensemble", "2",
                "--batch", "32", "--max-new-tokens", "24", "--cache-dir", work.resolve("cache").toString());
        long deadline = System.nanoTime() + Duration.ofMinutes(6).toNanos();
        while (demo.isAlive() && System.nanoTime() < deadline) {
            demo.descendants().forEach(p -> seen.put(p.pid(), p));
            Thread.sleep(500);
        }
        String stderr = Files.readString(err);
        assertThat(demo.isAlive()).as("demo --processes finished; stderr:%n%s", stderr).isFalse();
        assertThat(demo.exitValue()).as("exit status; stderr:%n%s", stderr).isZero();

        List<String> lines = Files.readAllLines(out);
        JsonNode summary = JSON.readTree(lines.get(lines.size() - 1));
        assertThat(summary.get("mode").asText()).isEqualTo("processes");
        assertThat(summary.get("versions_published").asLong()).as("versions in %s", summary).isGreaterThanOrEqualTo(2);
        assertThat(summary.get("scored").asLong()).as("scored in %s", summary).isPositive();
        assertThat(summary.get("final_proxy").isNumber()).as("final_proxy in %s", summary).isTrue();
        assertThat(summary.get("versions").size()).as("versions that generated").isGreaterThanOrEqualTo(2);
        assertThat(String.join("\n", lines)).contains("Policy versions published: ");
        assertThat(JSON.readTree(Files.readString(report.resolve("summary.json"))).get("versions_published").asLong())
                .isEqualTo(summary.get("versions_published").asLong());
        assertThat(report.resolve("stack").resolve("logs").resolve("learn-0.log")).exists();
        assertThat(stderr).contains("each process runs as its component's user");
        assertThat(seen).as("processes the demo started").hasSizeGreaterThanOrEqualTo(6);
        long gone = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (seen.values().stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < gone) {
            Thread.sleep(100);
        }
        assertThat(seen.values()).as("every process of the stack ended").noneMatch(ProcessHandle::isAlive);
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
