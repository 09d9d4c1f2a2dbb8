package io.streamrlhf.rewardstream.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.rewardstream.Fixtures;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Static membership of the reward stream on the embedded broker: an instance in a process of its own, killed with
 * SIGKILL and restarted on its state directory (hence with its default instance id), gets its tasks back and scores
 * again long before the group would drop the dead member (its session timeout is two minutes here), every input scored
 * exactly once across the kill; stopped (as on SIGTERM), it leaves the group at once.
 */
class ScorerRestartIT {

    private static final Logger LOG = LoggerFactory.getLogger(ScorerRestartIT.class);
    /** Long, so that waiting it out could not pass for a prompt recovery. */
    private static final int SESSION_TIMEOUT_MS = 120_000;
    private static final int BATCH = 40;

    @TempDir
    Path tmp;

    @Test
    void aKilledScorerRestartedOnItsStateResumesWithoutWaitingOutItsSessionAndLeavesTheGroupOnSigterm()
            throws Exception {
        ClusterFixture cluster = new ClusterFixture("scorer-restart", 2);
        String app = "restart-" + UUID.randomUUID();
        Path props = tmp.resolve("score.properties");
        Properties p = new Properties();
        cluster.settings().forEach((k, v) -> p.setProperty(k, v.toString()));
        p.setProperty(RewardStreamConfig.APPLICATION_ID, app);
        p.setProperty(RewardStreamConfig.SOURCES, "rule:length");
        p.setProperty(RewardStreamConfig.BATCH_SIZE, "10");
        p.setProperty(RewardStreamConfig.BATCH_MAX_WAIT_MS, "100");
        p.setProperty(RewardStreamConfig.STATE_DIR, tmp.resolve("state").toString());
        p.setProperty(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Integer.toString(SESSION_TIMEOUT_MS));
        try (Writer w = Files.newBufferedWriter(props)) {
            p.store(w, "ScorerRestartIT");
        }

        List<ConsumerRecord<String, ScoredGeneration>> scored = new ArrayList<>();
        try (KafkaConsumer<String, ScoredGeneration> reader = cluster.committedReader(cluster.topics.scored().name(),
                cluster.topics.scored().keyDeserializer(), cluster.topics.scored().valueDeserializer())) {
            cluster.produce(generations(0, BATCH));
            Process first = start(props, tmp.resolve("first.log"));
            try {
                ClusterFixture.pollUntil(reader, scored, BATCH, Duration.ofSeconds(90));
                assertThat(scored).as("the first instance scored its inputs").hasSize(BATCH);
            } finally {
                first.destroyForcibly();  // SIGKILL: no leave-group, no transaction ended
                assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            long killedAt = System.nanoTime();
            cluster.produce(generations(BATCH, 2 * BATCH));
            // The restart runs in this JVM: the group sees the same thing as from a new process (a member with the
            // dead one's instance id, derived from the same state directory), a few seconds of JVM start sooner.
            Map<String, Object> settings = new HashMap<>();
            p.forEach((k, v) -> settings.put((String) k, v));
            ScoringApp restarted = ScoringApp.create(settings, new SimpleMeterRegistry());
            try {
                restarted.start();
                ClusterFixture.pollUntil(reader, scored, 2 * BATCH, Duration.ofSeconds(90));
                double resumedS = (System.nanoTime() - killedAt) / 1e9;
                LOG.info("the restarted scorer scored every new input {} s after its predecessor's SIGKILL "
                        + "(session timeout {} s)", String.format("%.1f", resumedS), SESSION_TIMEOUT_MS / 1000);
                assertThat(scored).as("the restarted instance scored the inputs sent after the kill")
                        .hasSizeGreaterThanOrEqualTo(2 * BATCH);
                assertThat(resumedS).as("back at work, well within the session timeout")
                        .isLessThan(SESSION_TIMEOUT_MS / 2000.0);
                assertThat(members(cluster, app)).as("the restarted instance took its predecessor's place")
                        .extracting(m -> m.groupInstanceId().orElse("dynamic"))
                        .containsExactly(restarted.config().instanceId() + "-1");

                ClusterFixture.drain(reader, scored, Duration.ofSeconds(1));  // anything extra would show now
                assertThat(scored).extracting(r -> r.value().getGeneration().getGenerationId())
                        .doesNotHaveDuplicates()
                        .containsExactlyInAnyOrderElementsOf(generations(0, 2 * BATCH).stream()
                                .map(Generation::getGenerationId).toList());

                long stoppedAt = System.nanoTime();
                restarted.close();  // what the shutdown hook of `rlhf score` does on SIGTERM
                await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                        .until(() -> members(cluster, app).isEmpty());
                LOG.info("the stopped scorer left the group {} s after its close began",
                        String.format("%.1f", (System.nanoTime() - stoppedAt) / 1e9));
            } finally {
                restarted.close();
            }
        }
    }

    private static List<Generation> generations(int from, int to) {
        return IntStream.range(from, to).mapToObj(i -> Fixtures.generation("gen-" + i, "prompt-" + (i % 7),
                "answer " + i)).toList();
    }

    private static List<MemberDescription> members(ClusterFixture cluster, String group) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap))) {
            return new ArrayList<>(admin.describeConsumerGroups(List.of(group)).describedGroups().get(group)
                    .get(30, TimeUnit.SECONDS).members());
        }
    }

    private static Process start(Path props, Path log) throws IOException {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", classpath,
                ScoringApp.class.getName(), props.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }
}
