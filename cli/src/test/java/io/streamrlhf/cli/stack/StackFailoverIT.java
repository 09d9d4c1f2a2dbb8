package io.streamrlhf.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import io.streamrlhf.schemas.topics.TopicsConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The learner failed over inside {@code rlhf stack up}, as an operator's stack would see it: three brokers, two
 * learners (one active, one standing by), two workers and two scorers as processes of their own. The active learner killed with SIGKILL →
 * the other publishes the next version within 30 s; the new active learner paused with SIGSTOP → the other takes over
 * after the lease's session timeout, and the paused one, resumed, publishes nothing. Through all of it
 * {@code policy.versions} holds each version once, with no gap. The prompt feed, killed too, resumes after the last id
 * it sent: no prompt id twice. {@code rlhf stack down} leaves nothing running, within seconds.
 */
class StackFailoverIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The learners' lease session timeout (learner.lease.session.timeout.ms's default): the takeover's floor. */
    private static final Duration LEASE_SESSION = Duration.ofSeconds(10);

    @TempDir Path work;

    private Process stack;
    private final Map<Long, ProcessHandle> seen = new ConcurrentHashMap<>();
    private Long stoppedPid;
    private String bootstrap;

    @BeforeAll
    static void jarExists() {
        assertThat(Path.of("target", "rlhf.jar")).as("the runnable jar built by 'package'").exists();
    }

    @AfterEach
    void killLeftovers() throws Exception {
        if (stoppedPid != null) {
            signal("CONT", stoppedPid);
        }
        if (stack != null && stack.isAlive()) {
            stack.descendants().forEach(ProcessHandle::destroyForcibly);
            stack.destroyForcibly();
        }
        seen.values().forEach(ProcessHandle::destroyForcibly);
    }

    @Test
    void aKilledAndAPausedLeaderAreReplacedAndEveryVersionIsPublishedOnce() throws Exception {
        Path dir = work.resolve("stack");
        Path err = work.resolve("stack.err");
        stack = start(work.resolve("stack.out"), err, "stack", "up", "--dir", dir.toString(), "--workers", "2",
                "--scorers", "2", "--learners", "2", "--rm-trainers", "0", "--synthetic-prompts", "2",
                "--sft-steps", "40", "--preference-pairs", "160", "--rm-epochs", "1", "--rm-ensemble", "2",
                "--batch", "32", "--max-new-tokens", "24", "--cache-dir", work.resolve("cache").toString(),
                "--brokers", "3");

        JsonNode status = awaitStatus(dir, err, Duration.ofSeconds(240), s -> s.get("policy_version").asLong() >= 2
                && s.get("lease_holder").isTextual());
        assertThat(status.get("brokers").asInt()).as("live brokers").isEqualTo(3);
        assertThat(names(status)).containsExactly("cluster", "learn-0", "learn-1", "score-0", "score-1", "worker-0",
                "worker-1", "prompts");
        Topics topics = topics(status);
        String policy = JSON.readTree(Files.readString(dir.resolve("stack.json"))).get("policy_name").asText();

        // 0. SIGKILL of the prompt feed: restarted, it goes on after the newest id it sent.
        ProcessHandle.of(process(status, "prompts").get("pid").asLong()).orElseThrow().destroyForcibly();

        // 1. SIGKILL of the active learner: the standby publishes the next version within 30 s.
        String first = status.get("lease_holder").asText();
        long firstPid = process(status, first).get("pid").asLong();
        ProcessHandle.of(firstPid).orElseThrow().destroyForcibly();
        long killedAt = System.nanoTime();
        long atKill = newest(published(topics, policy));
        awaitVersionAfter(topics, policy, atKill, Duration.ofSeconds(30), err);
        double takeoverS = (System.nanoTime() - killedAt) / 1e9;
        assertThat(takeoverS).as("seconds from the SIGKILL to the next version").isLessThanOrEqualTo(30);
        assertContiguous(published(topics, policy));

        // 2. SIGSTOP of the new active learner: the other takes over once the lease's session times out.
        JsonNode afterKill = awaitStatus(dir, err, Duration.ofSeconds(60), s -> s.get("lease_holder").isTextual()
                && process(s, s.get("lease_holder").asText()).get("pid").asLong() != firstPid);
        String second = afterKill.get("lease_holder").asText();
        long secondPid = process(afterKill, second).get("pid").asLong();
        signal("STOP", secondPid);
        stoppedPid = secondPid;
        long pausedAt = System.nanoTime();
        long atPause = newest(published(topics, policy));
        JsonNode takenOver = awaitStatus(dir, err, LEASE_SESSION.plusSeconds(50), s -> s.get("lease_holder")
                .isTextual() && process(s, s.get("lease_holder").asText()).get("pid").asLong() != secondPid);
        long third = process(takenOver, takenOver.get("lease_holder").asText()).get("pid").asLong();
        awaitVersionAfter(topics, policy, atPause, Duration.ofSeconds(60), err);
        double pausedTakeoverS = (System.nanoTime() - pausedAt) / 1e9;
        assertThat(pausedTakeoverS).as("the lease outlives no session timeout")
                .isGreaterThanOrEqualTo(LEASE_SESSION.toSeconds() - 1);

        // 3. The paused leader resumes: a zombie, fenced; it publishes nothing, and the new leader goes on.
        signal("CONT", secondPid);
        stoppedPid = null;
        long atResume = newest(published(topics, policy));
        awaitVersionAfter(topics, policy, atResume + 1, Duration.ofSeconds(90), err);
        JsonNode end = awaitStatus(dir, err, Duration.ofSeconds(30), s -> s.get("lease_holder").isTextual());
        assertThat(process(end, end.get("lease_holder").asText()).get("pid").asLong())
                .as("the learner that took over from the paused one still leads").isEqualTo(third);
        List<Long> versions = published(topics, policy);
        assertContiguous(versions);
        assertThat(process(end, "prompts").get("restarts").asInt()).as("the feed was restarted").isEqualTo(1);
        List<String> promptIds = promptIds(topics);
        assertThat(promptIds).as("prompt ids sent before and after the feed's restart").doesNotHaveDuplicates()
                .hasSizeGreaterThan(10);
        assertThat(Files.readString(dir.resolve("logs").resolve(second + ".log")))
                .as("the resumed learner learnt it had lost the lease").contains("was lost");

        // 4. Down: every process ends, the learners within seconds of their SIGTERM.
        stack.descendants().forEach(p -> seen.put(p.pid(), p));
        long downAt = System.nanoTime();
        Process down = start(work.resolve("down.out"), work.resolve("down.err"), "stack", "down", "--dir",
                dir.toString());
        assertThat(down.waitFor(3, TimeUnit.MINUTES)).as("stack down returned").isTrue();
        double downS = (System.nanoTime() - downAt) / 1e9;
        assertThat(down.exitValue()).as("stack down: %s", Files.readString(work.resolve("down.err"))).isZero();
        // two learners waiting out a 60 s stop grace each would take minutes
        assertThat(downS).as("seconds stack down took").isLessThan(60);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (seen.values().stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(seen.values()).as("every process of the stack ended").noneMatch(ProcessHandle::isAlive);
        System.out.printf("StackFailoverIT: versions %s; next version %.1f s after the SIGKILL, %.1f s after the "
                + "SIGSTOP; stack down took %.1f s%n", versions, takeoverS, pausedTakeoverS, downS);
    }

    /** Each version once, in order, with no gap. */
    private static void assertContiguous(List<Long> versions) {
        assertThat(versions).as("versions on policy.versions").isNotEmpty();
        assertThat(versions).as("versions on policy.versions: each once, in order, no gap").isEqualTo(
                LongStream.rangeClosed(versions.get(0), versions.get(versions.size() - 1)).boxed().toList());
    }

    private void awaitVersionAfter(Topics topics, String policy, long after, Duration timeout, Path err)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (newest(published(topics, policy)) > after) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("no version after " + after + " within " + timeout.toSeconds() + " s; versions "
                + published(topics, policy) + "; stack stderr:\n" + Files.readString(err));
    }

    private static long newest(List<Long> versions) {
        return versions.isEmpty() ? -1 : versions.get(versions.size() - 1);
    }

    private Topics topics(JsonNode status) {
        bootstrap = status.get("bootstrap").asText();
        Map<String, Object> settings = new HashMap<>();
        settings.put("bootstrap.servers", status.get("bootstrap").asText());
        settings.put("schema.registry.url", status.get("registry").asText());
        settings.put(TopicsConfig.PREFIX, "rlhf.");
        return Topics.create(settings);
    }

    /** Every committed version record of {@code policy} on policy.versions, in order. */
    private List<Long> published(Topics topics, String policy) {
        TopicSpec<String, PolicyVersion> spec = topics.policyVersions();
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<Long> versions = new ArrayList<>();
        try (KafkaConsumer<String, PolicyVersion> consumer = new KafkaConsumer<>(props, spec.keyDeserializer(),
                spec.valueDeserializer())) {
            TopicPartition tp = new TopicPartition(spec.name(), 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            while (consumer.position(tp) < end) {
                for (ConsumerRecord<String, PolicyVersion> r : consumer.poll(Duration.ofMillis(500))) {
                    if (policy.equals(r.key())) {
                        versions.add(r.value().getVersion());
                    }
                }
            }
        }
        return versions;
    }

    /** Every committed prompt id on {@code prompts}. */
    private List<String> promptIds(Topics topics) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<String> ids = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            String topic = topics.prompts().name();
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
                consumer.poll(Duration.ofMillis(500)).forEach(r -> ids.add(r.key()));
            }
        }
        return ids;
    }

    private static void signal(String signal, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
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
            Thread.sleep(1000);
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
