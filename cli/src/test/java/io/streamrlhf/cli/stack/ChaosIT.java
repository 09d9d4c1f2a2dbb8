package io.streamrlhf.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short {@code rlhf chaos} run, the way an operator runs it: the stack of 3 brokers (each its own process), the
 * registry, 2 learners (one active, one standing by), 2 workers, 2 scorers, the online reward-model trainer, simulated
 * raters and the synthetic prompt feed, with 9 SIGKILLs within 30 s, one of every kind: a worker, a scorer, the active
 * learner, the standby, the reward-model trainer, the feedback server (the raters post through it), the prompt feed, a
 * broker and the registry (an outage). At their start the active learner is paused with SIGSTOP until the other
 * learner has taken the lease over and published a version, then resumed: the zombie publishes nothing, learns it lost
 * the lease and ends (the stack restarts it as a standby).
 * Meanwhile a worker and a scorer are added and later removed. The audit of the drained topics finds nothing lost,
 * nothing twice and nothing stuck; every killed member came back; the added worker generated; the reward-model
 * trainer published versions from the raters' labels; and when the command ends, every process it started has ended.
 */
class ChaosIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The learners' lease session timeout (learner.lease.session.timeout.ms's default): the takeover's floor. */
    private static final double LEASE_SESSION_S = 10;

    @TempDir Path work;

    private Process chaos;
    private final Map<Long, ProcessHandle> seen = new ConcurrentHashMap<>();

    @BeforeAll
    static void jarExists() {
        assertThat(StackDriver.jar()).as("the runnable jar built by 'package'").exists();
    }

    @AfterEach
    void killLeftovers() throws Exception {
        if (chaos != null && chaos.isAlive()) {
            chaos.descendants().forEach(ProcessHandle::destroyForcibly);
            chaos.destroyForcibly();
        }
        seen.values().forEach(ProcessHandle::destroyForcibly);
        // the processes' logs outlive the temporary directory, for a failure's post-mortem
        Path logs = work.resolve("stack").resolve("logs");
        if (Files.isDirectory(logs)) {
            Path kept = Files.createDirectories(Path.of("target", "chaos-it-logs"));
            try (var files = Files.list(logs)) {
                for (Path f : files.toList()) {
                    Files.copy(f, kept.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Files.copy(work.resolve("chaos.err"), kept.resolve("chaos.err"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Test
    void killsOfEveryKindLoseNothingDuplicateNothingAndLeaveNothingStuck() throws Exception {
        long begun = System.nanoTime();
        Path out = work.resolve("chaos.out");
        Path err = work.resolve("chaos.err");
        chaos = StackDriver.start(out, err, "chaos", "--dir", work.resolve("stack").toString(), "--minutes", "0.5",
                "--kills", "9", "--seed", "7", "--json", "--recovery-timeout", "240", "--drain-timeout", "240",
                "--sft-steps", "40", "--preference-pairs", "160", "--rm-epochs", "1", "--rm-ensemble", "2", "--batch",
                "32", "--max-new-tokens", "24", "--cache-dir", work.resolve("cache").toString());
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(15);
        while (chaos.isAlive() && System.nanoTime() < deadline) {
            chaos.descendants().forEach(p -> seen.put(p.pid(), p));
            Thread.sleep(1000);
        }
        assertThat(chaos.isAlive()).as("rlhf chaos ended; stderr:%n%s", tail(err)).isFalse();
        double tookS = (System.nanoTime() - begun) / 1e9;
        List<String> lines = Files.readAllLines(out);
        assertThat(lines).as("stdout; stderr:%n%s", tail(err)).isNotEmpty();
        JsonNode report = JSON.readTree(lines.get(lines.size() - 1));
        System.out.printf("ChaosIT: %.0f s; %s%n", tookS, report);

        assertThat(report.get("lost").asLong()).as("lost: %s", report.get("problems")).isZero();
        assertThat(report.get("duplicated").asLong()).as("duplicated: %s", report.get("problems")).isZero();
        assertThat(report.get("stuck").asLong()).as("stuck: %s", report.get("problems")).isZero();
        assertThat(report.get("unrecovered").asLong()).as("members not back: %s", report.get("recovery_s_by_kind"))
                .isZero();
        assertThat(chaos.exitValue()).as("exit status; stderr:%n%s", tail(err)).isZero();

        assertThat(report.get("kills").asInt()).isEqualTo(9);
        assertThat(names(report.get("kills_by_kind"))).as("one kill of every kind").containsExactlyInAnyOrder(
                "worker", "scorer", "active_learner", "standby_learner", "rm_trainer", "feedback", "prompts",
                "broker", "registry");
        assertThat(report.get("broker_kills").asInt()).isEqualTo(1);
        assertThat(report.get("registry_outages").asInt()).isEqualTo(1);
        assertThat(report.get("max_recovery_s").asDouble()).as("seconds to the slowest recovery: %s",
                report.get("recovery_s_by_kind")).isBetween(0.0, 240.0);
        assertThat(report.get("prompts").asInt()).as("prompts audited").isGreaterThan(20);
        assertThat(report.get("generations").asInt()).as("generations audited")
                .isGreaterThanOrEqualTo(2 * report.get("prompts").asInt());
        assertThat(report.get("ledger_entries").asInt()).as("the learner's ledger").isPositive();
        assertThat(report.get("policy_version").asLong()).as("policy versions published").isGreaterThanOrEqualTo(3);
        assertThat(report.get("rm_version").asLong()).as("reward-model versions from the raters' labels")
                .isGreaterThanOrEqualTo(2);
        assertThat(texts(report.get("scaled"))).as("members added and removed during the run")
                .containsExactlyInAnyOrder("add worker-2", "add score-2", "remove worker-2", "remove score-2");
        assertThat(names(report.get("generations_by_worker"))).as("generations per worker")
                .contains("stack-worker-0", "stack-worker-1", "stack-worker-2");

        // the paused learner: replaced while stopped, fenced once resumed
        JsonNode zombie = report.get("zombie");
        assertThat(zombie.isObject()).as("the pause of the active learner: %s", report).isTrue();
        assertThat(zombie.get("published_after_resume").asInt()).as("versions the resumed learner published: %s",
                zombie).isZero();
        assertThat(zombie.get("repeated_after_resume").asInt()).isZero();
        assertThat(zombie.get("publish_lines_after_resume").asInt()).isZero();
        // the coordinator presumes the stopped member dead once its heartbeats (a fifth of the lease group's member
        // timeout apart) have been missing for that timeout; a broker killed meanwhile may move the coordinator, whose
        // timers then start again
        assertThat(zombie.get("lease_moved_s").asDouble()).as("seconds until the other learner held the lease: %s",
                zombie).isBetween(LEASE_SESSION_S * 0.8 - 1, 60.0);
        assertThat(zombie.get("takeover_s").asDouble()).as("seconds until the other learner published: %s", zombie)
                .isBetween(zombie.get("lease_moved_s").asDouble(), 120.0);
        assertThat(zombie.get("paused_s").asDouble()).isGreaterThanOrEqualTo(zombie.get("takeover_s").asDouble());
        assertThat(zombie.get("versions_while_paused").asInt()).isPositive();
        assertThat(zombie.get("lost_lease_logged").asBoolean()).as("its log says it lost the lease: %s", zombie)
                .isTrue();
        assertThat(zombie.get("exited_s").asDouble()).as("seconds from its SIGCONT to its end: %s", zombie)
                .isBetween(0.0, 60.0);
        assertThat(zombie.get("versions_after_resume").asInt()).as("the successor went on: %s", zombie).isPositive();
        assertThat(zombie.get("successor_leads").asBoolean()).as("the learner that took over still leads: %s", zombie)
                .isTrue();

        assertThat(seen).as("processes the run started").hasSizeGreaterThan(13);
        assertThat(seen.values().stream().filter(ProcessHandle::isAlive).map(ProcessHandle::pid).toList())
                .as("processes still running after rlhf chaos ended").isEmpty();
    }

    private static List<String> names(JsonNode object) {
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(n -> texts.add(n.asText()));
        return texts;
    }

    /** The chaos run's and the stack's own lines, then the last lines of whatever else: what a failure needs. */
    private static String tail(Path file) throws Exception {
        if (!Files.exists(file)) {
            return "";
        }
        List<String> lines = Files.readAllLines(file);
        List<String> out = new ArrayList<>(lines.stream().filter(l -> l.startsWith("rlhf ")).toList());
        out.add("...");
        out.addAll(lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        return String.join("\n", out);
    }
}
