package io.streamrlhf.rewardstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.rewardstream.Fixtures;
import io.streamrlhf.rewardstream.topology.ScoringTopology;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.topics.TopicSpec;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Labels that come before their generations survive a crash: a scorer in a child JVM parks a label whose generations
 * are not on the topic yet, is killed with SIGKILL, and a second scorer on an empty state directory (so the waiting
 * label comes back from the changelog alone) takes over while more labels and the generations arrive. Every label
 * then makes its pair exactly once and none is dead-lettered.
 */
class PendingFeedbackIT {

    @TempDir
    Path tmp;

    @Test
    void aLabelWaitingWhenItsScorerIsKilledPairsOnceAfterTheRestore() throws Exception {
        ClusterFixture cluster = new ClusterFixture("pending", 1);
        String app = "pending-" + UUID.randomUUID();
        List<ConsumerRecord<String, PreferencePair>> pairs = new ArrayList<>();
        try (KafkaConsumer<String, PreferencePair> reader = cluster.committedReader(
                cluster.topics.preferences().name(), cluster.topics.preferences().keyDeserializer(),
                cluster.topics.preferences().valueDeserializer())) {
            // "early" waits for g-1 and g-2; "marker" comes after it on the same partition, so once its pair is
            // committed, so is the offset of "early", with "early" in the pending store.
            sendFeedback(cluster, Fixtures.pairwise("early", "p1", List.of("g-1", "g-2"), 0));
            cluster.produce(List.of(Fixtures.generation("g-0a", "p0", "marker a"),
                    Fixtures.generation("g-0b", "p0", "marker b")));
            sendFeedback(cluster, Fixtures.pairwise("marker", "p0", List.of("g-0a", "g-0b"), 1));

            Process first = start(properties(cluster, app, "first"), tmp.resolve("first.log"));
            try {
                ClusterFixture.pollUntil(reader, pairs, 1, Duration.ofSeconds(60));
                assertThat(pairs).extracting(r -> r.value().getPairId()).as("see first.log").containsExactly("marker");
            } finally {
                first.destroyForcibly();
                assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            // What the second scorer will restore: "early", committed to the pending store's changelog with the
            // generations it waits for and the time it started waiting.
            List<ConsumerRecord<byte[], byte[]>> changelog = new ArrayList<>();
            try (KafkaConsumer<byte[], byte[]> log = cluster.committedReader(app + "-"
                    + ScoringTopology.PENDING_STORE + "-changelog", new ByteArrayDeserializer(),
                    new ByteArrayDeserializer())) {
                ClusterFixture.pollUntil(log, changelog, 4, Duration.ofSeconds(20));
                ClusterFixture.drain(log, changelog, Duration.ofMillis(500));
            }
            assertThat(changelog).filteredOn(r -> r.value() != null).extracting(r -> new String(r.key(),
                    StandardCharsets.UTF_8).replace('\0', '/').replaceAll("/\\d{20}/", "/<since>/"))
                    .filteredOn(k -> k.endsWith("/early"))
                    .containsExactly("L/early", "G/g-1/early", "G/g-2/early", "T/<since>/early");

            // While no scorer runs: the generations of "early", a label whose generations are already there, and
            // one whose generation comes after the restart.
            cluster.produce(List.of(Fixtures.generation("g-1", "p1", "one"), Fixtures.generation("g-2", "p1", "two")));
            sendFeedback(cluster, Fixtures.pairwise("meanwhile", "p1", List.of("g-2", "g-1"), 0));
            sendFeedback(cluster, Fixtures.pairwise("later", "p3", List.of("g-3a", "g-3b"), 1));

            Process second = start(properties(cluster, app, "second"), tmp.resolve("second.log"));
            try {
                cluster.produce(List.of(Fixtures.generation("g-3a", "p3", "three a"),
                        Fixtures.generation("g-3b", "p3", "three b")));
                ClusterFixture.pollUntil(reader, pairs, 4, Duration.ofSeconds(90));
                ClusterFixture.drain(reader, pairs, Duration.ofSeconds(1)); // a second pair of a label would show now
            } finally {
                second.destroy();
                second.waitFor(30, TimeUnit.SECONDS);
                second.destroyForcibly();
            }
        }
        assertThat(pairs).extracting(r -> r.value().getPairId()).as("see second.log")
                .containsExactlyInAnyOrder("marker", "early", "meanwhile", "later");
        PreferencePair early = pairs.stream().map(ConsumerRecord::value).filter(p -> p.getPairId().equals("early"))
                .findFirst().orElseThrow();
        assertThat(early.getChosen()).isEqualTo("one");
        assertThat(early.getRejected()).isEqualTo("two");

        List<ConsumerRecord<byte[], byte[]>> dead = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> dlq = cluster.committedReader(cluster.topics.feedback().name() + ".dlq",
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            ClusterFixture.drain(dlq, dead, Duration.ofSeconds(1));
        }
        assertThat(dead).as("no label dead-lettered").isEmpty();
    }

    private static void sendFeedback(ClusterFixture cluster, Feedback feedback) {
        TopicSpec<String, Feedback> spec = cluster.topics.feedback();
        try (KafkaProducer<String, Feedback> producer = new KafkaProducer<>(
                Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap), spec.keySerializer(),
                spec.valueSerializer())) {
            producer.send(new ProducerRecord<>(spec.name(), feedback.getPromptId(), feedback));
            producer.flush();
        }
    }

    private Path properties(ClusterFixture cluster, String app, String name) throws IOException {
        Properties p = new Properties();
        cluster.settings().forEach((k, v) -> p.setProperty(k, v.toString()));
        p.setProperty(RewardStreamConfig.APPLICATION_ID, app);
        p.setProperty(RewardStreamConfig.BATCH_MAX_WAIT_MS, "50");
        // Each instance its own empty state directory: the second restores every store from its changelog.
        p.setProperty(RewardStreamConfig.STATE_DIR, tmp.resolve(name + "-state").toString());
        // A killed member must leave the group and its transaction must abort soon, so the restart takes over.
        p.setProperty("session.timeout.ms", "6000");
        p.setProperty("heartbeat.interval.ms", "1000");
        p.setProperty("producer.transaction.timeout.ms", "6000");
        p.setProperty("commit.interval.ms", "100");
        Path file = tmp.resolve(name + ".properties");
        try (Writer w = Files.newBufferedWriter(file)) {
            p.store(w, "pending feedback IT");
        }
        return file;
    }

    private static Process start(Path props, Path log) throws IOException {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx512m", "-XX:TieredStopAtLevel=1", "-cp", classpath,
                ScoringApp.class.getName(), props.toString());
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(Map.of("OPT_OUT_TRACKING", "true"));
        return pb.start();
    }
}
