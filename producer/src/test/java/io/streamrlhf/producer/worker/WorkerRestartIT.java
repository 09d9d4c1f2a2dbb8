package io.streamrlhf.producer.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.producer.ItCluster;
import io.streamrlhf.producer.TestPolicies;
import io.streamrlhf.producer.feed.PromptSender;
import io.streamrlhf.producer.feed.SyntheticPromptFeed;
import io.streamrlhf.schemas.avro.Generation;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Static membership against the embedded broker: a worker in a process of its own, killed with SIGKILL after its first
 * commit (possibly inside a transaction) and restarted with its id, gets its partitions back and generates again long
 * before the group would drop the dead member (its session timeout is two minutes here), and every prompt comes out
 * exactly once across the kill; stopped (as on SIGTERM), it leaves the group at once instead of holding its partitions
 * for the session timeout.
 */
class WorkerRestartIT {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerRestartIT.class);
    /** Long, so that waiting it out could not pass for a prompt recovery. */
    private static final int SESSION_TIMEOUT_MS = 120_000;
    private static final int SAMPLES = 2;
    private static final String ID = "phoenix";

    @TempDir
    Path dir;

    @Test
    void aKilledWorkerRestartedWithItsIdResumesWithoutWaitingOutItsSessionAndLeavesTheGroupOnSigterm()
            throws Exception {
        ItCluster cluster = new ItCluster("worker-restart", 2);
        cluster.publish(TestPolicies.version("chat", 0, TestPolicies.save(TestPolicies.checkpoint(5), dir, "v0")));
        Map<String, Object> settings = cluster.settings();
        settings.put(WorkerConfig.POLICY_NAME, "chat");
        settings.put(WorkerConfig.WORKER_ID, ID);
        settings.put(WorkerConfig.BATCH_MAX_SIZE, 8);
        settings.put(WorkerConfig.BATCH_MAX_WAIT_MS, 50L);
        settings.put(WorkerConfig.MAX_NEW_TOKENS, 8);
        settings.put(WorkerConfig.POLICY_WAIT_MS, 60_000L);
        settings.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, SESSION_TIMEOUT_MS);
        Path props = dir.resolve("worker.properties");
        Properties p = new Properties();
        settings.forEach((k, v) -> p.setProperty(k, v.toString()));
        try (Writer w = Files.newBufferedWriter(props)) {
            p.store(w, "WorkerRestartIT");
        }
        String group = new WorkerConfig(settings).groupId();
        SyntheticPromptFeed feed = new SyntheticPromptFeed(31, SAMPLES);

        send(cluster, feed, 8);
        Process first = start(props, dir.resolve("first.log"));
        try {
            // at work: its first transaction is committed (the next may be open when it dies)
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(250))
                    .until(() -> !committed(cluster).isEmpty());
        } finally {
            first.destroyForcibly();  // SIGKILL: no leave-group, no transaction ended
            assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        long killedAt = System.nanoTime();
        send(cluster, feed, 8);
        // The restart runs in this JVM, whose model runtime is loaded: the group sees the same thing as from a new
        // process (a member with the dead one's instance id), a few seconds of JVM start sooner.
        WorkerPool restarted = new WorkerPool(settings, 1, Optional.empty(), new SimpleMeterRegistry());
        try {
            restarted.start();
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
                    .until(() -> committed(cluster).size() >= 16 * SAMPLES);
            double resumedS = (System.nanoTime() - killedAt) / 1e9;
            LOG.info("the restarted worker generated every prompt {} s after its predecessor's SIGKILL "
                    + "(session timeout {} s)", String.format("%.1f", resumedS), SESSION_TIMEOUT_MS / 1000);
            assertThat(resumedS).as("back at work, well within the session timeout")
                    .isLessThan(SESSION_TIMEOUT_MS / 2000.0);
            assertThat(members(cluster, group)).as("the restarted worker took its predecessor's place")
                    .extracting(m -> m.groupInstanceId().orElse("dynamic")).containsExactly(ID);

            Thread.sleep(1000);  // anything extra would show up now
            List<Generation> gens = committed(cluster);
            assertThat(gens).hasSize(16 * SAMPLES);
            assertThat(gens).extracting(Generation::getGenerationId).doesNotHaveDuplicates();
            assertThat(gens.stream().collect(Collectors.groupingBy(Generation::getPromptId, Collectors.counting())))
                    .hasSize(16).allSatisfy((prompt, n) -> assertThat(n).as(prompt).isEqualTo((long) SAMPLES));

            long stoppedAt = System.nanoTime();
            restarted.close();  // what the shutdown hook of `rlhf worker` does on SIGTERM
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                    .until(() -> members(cluster, group).isEmpty());
            LOG.info("the stopped worker left the group {} s after its close began",
                    String.format("%.1f", (System.nanoTime() - stoppedAt) / 1e9));
        } finally {
            restarted.close();
        }
    }

    private static void send(ItCluster cluster, SyntheticPromptFeed feed, int n) {
        try (PromptSender sender = new PromptSender(cluster.topics(), cluster.settings())) {
            assertThat(sender.sendAll(feed.next(n))).isEqualTo(n);
        }
    }

    private static List<Generation> committed(ItCluster cluster) {
        return cluster.readAll(cluster.topics().generations(), "read_committed").stream()
                .map(ConsumerRecord::value).toList();
    }

    private static List<MemberDescription> members(ItCluster cluster, String group) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap()))) {
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group)
                    .get(30, TimeUnit.SECONDS);
            return new ArrayList<>(d.members());
        }
    }

    private static Process start(Path props, Path log) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // C1 and the serial collector: a short-lived process on a busy machine starts sooner
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Dai.djl.offline=true"));
        String cache = System.getProperty("DJL_CACHE_DIR");
        if (cache != null) {
            cmd.add("-DDJL_CACHE_DIR=" + cache);
        }
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        cmd.addAll(List.of("-cp", classpath, WorkerChild.class.getName(), props.toString()));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }
}
