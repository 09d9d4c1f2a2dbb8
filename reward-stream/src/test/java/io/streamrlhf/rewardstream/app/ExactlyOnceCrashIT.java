package io.streamrlhf.rewardstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.rewardstream.Fixtures;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.topics.DlqHeaders;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly once under a crash: the reward stream runs in a child JVM, is killed with SIGKILL while a batch is being
 * scored (its slow judge has been asked about records that are not yet committed), and is restarted on the same
 * state directory; the read_committed output then holds every input exactly once, and the one corrupt input
 * exactly once in the DLQ.
 */
class ExactlyOnceCrashIT {
    private static final int RECORDS = 300;

    @TempDir
    Path tmp;

    @Test
    void killedMidBatchAndRestartedEveryInputIsScoredExactlyOnce() throws Exception {
        ClusterFixture cluster = new ClusterFixture("crash", 2);
        List<Generation> inputs = new ArrayList<>();
        for (int i = 0; i < RECORDS; i++) {
            inputs.add(Fixtures.generation("gen-" + i, "prompt-" + (i % 37), "answer number " + i));
        }
        cluster.produce(inputs.subList(0, RECORDS / 2));
        cluster.produceRaw(cluster.topics.generations().name(), "prompt-x".getBytes(StandardCharsets.UTF_8),
                "corrupt".getBytes(StandardCharsets.UTF_8));
        cluster.produce(inputs.subList(RECORDS / 2, RECORDS));

        try (JudgeServer judge = new JudgeServer().delayMs(15).verdict(user -> "7")) {
            Path props = tmp.resolve("score.properties");
            Properties p = new Properties();
            cluster.settings().forEach((k, v) -> p.setProperty(k, v.toString()));
            p.setProperty(RewardStreamConfig.APPLICATION_ID, "crash-" + UUID.randomUUID());
            p.setProperty(RewardStreamConfig.SOURCES, "rule:length,judge:" + judge.endpoint()
                    + ";model=slow;concurrency=2;timeout_ms=5000");
            p.setProperty(RewardStreamConfig.BATCH_SIZE, "20");
            p.setProperty(RewardStreamConfig.BATCH_MAX_WAIT_MS, "100");
            p.setProperty(RewardStreamConfig.STATE_DIR, tmp.resolve("state").toString());
            // A killed member must leave the group and its transaction must abort soon, so the restart takes over.
            p.setProperty("session.timeout.ms", "6000");
            p.setProperty("heartbeat.interval.ms", "1000");
            p.setProperty("producer.transaction.timeout.ms", "6000");
            p.setProperty("commit.interval.ms", "100");
            try (Writer w = Files.newBufferedWriter(props)) {
                p.store(w, "crash IT");
            }

            List<ConsumerRecord<String, ScoredGeneration>> scored = new ArrayList<>();
            try (KafkaConsumer<String, ScoredGeneration> reader = cluster.committedReader(
                    cluster.topics.scored().name(), cluster.topics.scored().keyDeserializer(),
                    cluster.topics.scored().valueDeserializer())) {
                Process first = start(props, tmp.resolve("first.log"));
                try {
                    ClusterFixture.pollUntil(reader, scored, 60, Duration.ofSeconds(90));
                    assertThat(scored).as("the first instance scored and committed some records").hasSizeGreaterThanOrEqualTo(60);
                    // Mid-batch: the judge has been asked about records whose results are not committed.
                    Set<String> committed = ids(scored);
                    long inFlight = judge.userMessages.stream().map(ExactlyOnceCrashIT::idOf)
                            .filter(id -> id != null && !committed.contains(id)).distinct().count();
                    first.destroyForcibly();
                    assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
                    assertThat(inFlight).as("records being scored when the process was killed").isPositive();
                    assertThat(scored.size()).as("killed before finishing").isLessThan(RECORDS);
                } finally {
                    first.destroyForcibly();
                }

                Process second = start(props, tmp.resolve("second.log"));
                try {
                    ClusterFixture.pollUntil(reader, scored, RECORDS, Duration.ofSeconds(150));
                    ClusterFixture.drain(reader, scored, Duration.ofSeconds(3)); // anything extra would show now
                } finally {
                    second.destroy();
                    second.waitFor(30, TimeUnit.SECONDS);
                    second.destroyForcibly();
                }
            }
            List<String> ids = scored.stream().map(r -> r.value().getGeneration().getGenerationId()).toList();
            assertThat(ids).as("no duplicates").doesNotHaveDuplicates();
            assertThat(new HashSet<>(ids)).as("nothing lost").isEqualTo(
                    inputs.stream().map(Generation::getGenerationId).collect(Collectors.toSet()));
            for (ConsumerRecord<String, ScoredGeneration> r : scored) {
                ScoredGeneration s = r.value();
                assertThat(s.getScores()).hasSize(2);
                assertThat(s.getScores().get(0).getRaw())
                        .isEqualTo((double) s.getGeneration().getResponseText().codePointCount(0,
                                s.getGeneration().getResponseText().length()));
                assertThat(s.getScores().get(1).getRaw()).isEqualTo(7.0);
            }

            // Normalisation statistics are shared between the two partitions' tasks and counted exactly once: no
            // record's combined count exceeds the inputs, and later records count both partitions' scores.
            Map<Integer, Long> perPartition = scored.stream().collect(Collectors.groupingBy(
                    ConsumerRecord::partition, Collectors.counting()));
            List<Long> counts = scored.stream().map(r -> Long.parseLong(DlqHeaders.read(r.headers(),
                    "rlhf.norm.count.rule-length"))).toList();
            assertThat(counts).allSatisfy(c -> assertThat(c).isBetween(1L, (long) RECORDS));
            assertThat(counts.stream().mapToLong(Long::longValue).max().orElseThrow())
                    .as("merged across partitions %s", perPartition)
                    .isGreaterThan(perPartition.values().stream().mapToLong(Long::longValue).max().orElseThrow());

            List<ConsumerRecord<byte[], byte[]>> dead = new ArrayList<>();
            try (KafkaConsumer<byte[], byte[]> dlq = cluster.committedReader(
                    cluster.topics.generations().name() + ".dlq", new ByteArrayDeserializer(),
                    new ByteArrayDeserializer())) {
                ClusterFixture.pollUntil(dlq, dead, 1, Duration.ofSeconds(20));
                ClusterFixture.drain(dlq, dead, Duration.ofSeconds(2));
            }
            assertThat(dead).as("the corrupt record, dead-lettered once").hasSize(1);
            assertThat(new String(dead.get(0).value(), StandardCharsets.UTF_8)).isEqualTo("corrupt");
            assertThat(DlqHeaders.read(dead.get(0).headers(), DlqHeaders.SOURCE_TOPIC))
                    .isEqualTo(cluster.topics.generations().name());
            assertThat(DlqHeaders.read(dead.get(0).headers(), DlqHeaders.ERROR_CLASS)).endsWith("AvroSerdeException");
        }
    }

    private static Set<String> ids(List<ConsumerRecord<String, ScoredGeneration>> records) {
        return records.stream().map(r -> r.value().getGeneration().getGenerationId()).collect(Collectors.toSet());
    }

    /** The generation id in a judge prompt ("... answer number 17" belongs to gen-17). */
    private static String idOf(String userMessage) {
        int at = userMessage.lastIndexOf("answer number ");
        return at < 0 ? null : "gen-" + userMessage.substring(at + "answer number ".length()).trim();
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
