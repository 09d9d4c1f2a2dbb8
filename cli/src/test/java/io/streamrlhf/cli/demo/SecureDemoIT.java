package io.streamrlhf.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rlhf demo --secure} as a user runs it (the runnable jar, a JVM of its own) with a tiny budget: the demo's
 * broker takes TLS and SCRAM only and authorizes every request with the components' least-privilege ACLs, and the
 * loop still publishes policy versions the workers generate with. That each part ran as its own principal is read
 * from the broker itself: its authorizer's audit log ({@code kafka.authorizer.logger}, which logs every allowed
 * request at DEBUG and every denied one at INFO), written to a file by a logging configuration given to the demo's
 * JVM. Each in-JVM component's characteristic request was allowed to its own user, and nothing was denied. The
 * reward-model trainer's process runs under SCHED_IDLE and on a busy machine may not reach the broker within a short
 * loop, so its principal is read from the {@code --config} file it was started with, while it runs.
 */
class SecureDemoIT {

    /** {@code Principal = User:worker is Allowed operation = WRITE from host = ... on resource = Topic:LITERAL:x}. */
    private static final Pattern AUDIT = Pattern.compile(
            "Principal = (User:\\S+) is (Allowed|Denied) operation = (\\S+) from host = \\S+ on resource = (\\S+)",
            Pattern.CASE_INSENSITIVE);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path work;

    private Process process;

    @BeforeAll
    static void jarExists() {
        assertThat(Path.of("target", "rlhf.jar")).as("the runnable jar built by 'package'").exists();
    }

    @AfterEach
    void killLeftovers() {
        if (process != null && process.isAlive()) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    @Test
    void theLoopPublishesVersionsWithEveryComponentAsItsOwnUserAndNothingDenied() throws Exception {
        Path audit = work.resolve("authorizer.log");
        Path logback = Files.writeString(work.resolve("logback.xml"), """
                <configuration>
                  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
                    <target>System.err</target>
                    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{30} - %msg%n</pattern></encoder>
                  </appender>
                  <appender name="AUDIT" class="ch.qos.logback.core.FileAppender">
                    <file>FILE</file>
                    <encoder><pattern>%msg%n</pattern></encoder>
                  </appender>
                  <logger name="kafka.authorizer.logger" level="DEBUG" additivity="false">
                    <appender-ref ref="AUDIT"/>
                  </logger>
                  <root level="WARN"><appender-ref ref="STDERR"/></root>
                </configuration>
                """.replace("FILE", audit.toString()));
        Path out = work.resolve("demo.out");
        Path err = work.resolve("demo.err");
        long t0 = System.nanoTime();
        process = start(out, err, logback);
        Properties trainerConfig = trainerConfig(Duration.ofMinutes(4));
        boolean exited = process.waitFor(4, TimeUnit.MINUTES);
        String stderr = Files.readString(err);
        assertThat(trainerConfig).as("the reward-model trainer's --config file; stderr:%n%s", stderr).isNotNull();
        assertThat(trainerConfig.getProperty("security.protocol")).isEqualTo("SASL_SSL");
        assertThat(trainerConfig.getProperty("sasl.jaas.config")).contains("username=\"rm-trainer\"");
        assertThat(exited).as("demo finished within 4 minutes; stderr:%n%s", stderr).isTrue();
        assertThat(process.exitValue()).as("exit status; stderr:%n%s", stderr).isZero();
        assertThat(stderr).contains("ACLs granted; secure cluster (TLS, SASL/SCRAM-SHA-512, least-privilege ACLs)");

        List<String> lines = Files.readAllLines(out);
        JsonNode summary = JSON.readTree(lines.get(lines.size() - 1));
        assertThat(summary.get("policy_versions").asLong()).as("policy versions published in %s", summary)
                .isGreaterThanOrEqualTo(1);
        assertThat(summary.get("scored").asLong()).as("every committed generation scored")
                .isPositive().isEqualTo(summary.get("generations").asLong());

        Set<String> allowed = new TreeSet<>();
        List<String> denied = new ArrayList<>();
        for (String line : Files.readAllLines(audit)) {
            Matcher m = AUDIT.matcher(line);
            if (m.find()) {
                String entry = m.group(1) + " " + m.group(3).toUpperCase(java.util.Locale.ROOT) + " " + m.group(4);
                if (m.group(2).equalsIgnoreCase("Allowed")) {
                    allowed.add(entry);
                } else {
                    denied.add(line);
                }
            }
        }
        assertThat(allowed).as("the broker's audit log: each component's own requests, as its own user").contains(
                "User:worker WRITE Topic:LITERAL:rlhf.generations",
                "User:worker READ Group:LITERAL:rlhf-workers-policy",
                "User:scorer WRITE Topic:LITERAL:rlhf.scored",
                "User:scorer READ Group:LITERAL:rlhf-demo-reward-stream",
                "User:learner READ Group:LITERAL:rlhf-demo-learner",
                "User:learner WRITE Topic:LITERAL:rlhf.policy.versions",
                "User:feedback WRITE Topic:LITERAL:rlhf.feedback",
                "User:evaluator WRITE Topic:LITERAL:rlhf.prompts",
                "User:evaluator READ Topic:LITERAL:rlhf.scored");
        assertThat(allowed).as("the trainer, if it reached the broker in time, as its own user")
                .filteredOn(e -> e.contains("Topic:LITERAL:rlhf.rm.versions") && e.contains(" WRITE "))
                .allMatch(e -> e.startsWith("User:rm-trainer "));
        assertThat(allowed).as("the loop's data written by no one but its components")
                .noneMatch(e -> e.startsWith("User:admin WRITE Topic:LITERAL:rlhf.")
                        || e.startsWith("User:ANONYMOUS"));
        assertThat(denied).as("requests the ACLs refused").isEmpty();
        System.out.printf("SecureDemoIT: the secure demo ran in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The {@code --config} file of the demo's {@code train-rm} child process, read while the demo runs (it lives in
     * the run's working directory); null if no such process appeared.
     */
    private Properties trainerConfig(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (process.isAlive() && System.nanoTime() < deadline) {
            for (ProcessHandle child : process.descendants().toList()) {
                List<String> args = List.of(child.info().arguments().orElse(new String[0]));
                int i = args.indexOf("--config");
                if (args.contains("train-rm") && i >= 0 && i + 1 < args.size()) {
                    Properties config = new Properties();
                    try (var in = Files.newInputStream(Path.of(args.get(i + 1)))) {
                        config.load(in);
                    }
                    return config;
                }
            }
            Thread.sleep(200);
        }
        return null;
    }

    private Process start(Path out, Path err, Path logback) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1500m", "-Dai.djl.offline=true", "-Dlogback.configurationFile=" + logback));
        String djlCache = System.getProperty("DJL_CACHE_DIR");
        if (djlCache != null) {
            cmd.add("-DDJL_CACHE_DIR=" + djlCache);
        }
        // The smallest demo that still trains: a short SFT, a small preference set, one reward model, 15 s of loop.
        cmd.addAll(List.of("-jar", Path.of("target", "rlhf.jar").toAbsolutePath().toString(), "demo", "--secure",
                "--sft-steps", "10", "--preference-pairs", "32", "--rm-epochs", "1", "--rm-ensemble", "1",
                "--eval-prompts", "8", "--batch", "16", "--group-size", "4", "--rm-train-every", "16",
                "--rater-rate", "40", "--max-new-tokens", "8", "--no-progress", "--no-report", "--json",
                "--minutes", "0.25", "--cache-dir", work.resolve("cache").toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("OPT_OUT_TRACKING", "true");
        return pb.start();
    }
}
