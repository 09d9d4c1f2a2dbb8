package io.streamrlhf.evaluator.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.schemas.avro.FinishReason;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.SamplingParams;
import io.streamrlhf.schemas.topics.TopicCreator;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A topic-range replay of generations written by the test returns exactly that range: by offsets and by times, on
 * every partition, never an aborted record, and without creating or joining a consumer group.
 */
class TopicReplayIT {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    /** What the test wrote and the broker kept: generation id, partition, offset, timestamp. */
    record Written(String id, int partition, long offset, long timestamp) {
    }

    private static EmbeddedCluster cluster;
    private static TopicSpec<String, Generation> generations;
    private static final List<Written> committed = new ArrayList<>();

    @BeforeAll
    static void writeGenerations() throws Exception {
        cluster = SharedCluster.get();
        Topics topics = Topics.builder().prefix("it-replay-" + UUID.randomUUID().toString().substring(0, 8) + ".")
                .partitions(3).registryUrl(cluster.registryUrl()).build();
        generations = topics.generations();
        try (Admin admin = admin()) {
            new TopicCreator(admin).create(List.of(generations));
        }
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "it-replay-" + UUID.randomUUID());
        try (KafkaProducer<String, Generation> producer = new KafkaProducer<>(config, generations.keySerializer(),
                generations.valueSerializer())) {
            producer.initTransactions();
            // 30 committed, 6 aborted, 12 committed. Timestamps are the wall clock, strictly increasing, as a real
            // producer's are: the broker stamps transaction markers with its own clock, so a time range is only
            // well defined when record timestamps follow it.
            send(producer, 0, 30, "g-", true);
            send(producer, 0, 6, "aborted-", false);
            send(producer, 30, 12, "g-", true);
        }
        assertThat(committed).hasSize(42);
    }

    private static void send(KafkaProducer<String, Generation> producer, int from, int count, String prefix,
                             boolean commit) throws Exception {
        producer.beginTransaction();
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            String id = prefix + i;
            Thread.sleep(3);
            long ts = System.currentTimeMillis();
            ids.add(id);
            sent.add(producer.send(new ProducerRecord<>(generations.name(), null, ts, "q-" + (i % 7), generation(id, i))));
        }
        producer.flush();
        if (commit) {
            producer.commitTransaction();
            for (int k = 0; k < sent.size(); k++) {
                RecordMetadata m = sent.get(k).get();
                committed.add(new Written(ids.get(k), m.partition(), m.offset(), m.timestamp()));
            }
        } else {
            producer.abortTransaction();
        }
    }

    @Test
    void anOffsetRangeOnEveryPartitionReturnsExactlyThoseRecords() {
        Set<String> groupsBefore = groups();

        List<ConsumerRecord<String, Generation>> read = replay(new TopicRange(generations.name(),
                ReplayBound.offset(3), ReplayBound.offset(12)));

        List<String> expected = ids(w -> w.offset() >= 3 && w.offset() < 12);
        assertThat(expected).hasSizeGreaterThan(10);
        assertThat(read).extracting(r -> r.value().getGenerationId()).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(read).allSatisfy(r -> assertThat(r.key()).isEqualTo(r.value().getPromptId()));
        assertThat(read).noneMatch(r -> r.value().getGenerationId().startsWith("aborted-"));
        assertThat(groups()).as("replay must not create or join a consumer group").isEqualTo(groupsBefore);
    }

    @Test
    void aTimeRangeReturnsTheRecordsStampedInsideIt() {
        Instant from = Instant.ofEpochMilli(timestampOf("g-10"));
        Instant to = Instant.ofEpochMilli(timestampOf("g-35"));

        List<ConsumerRecord<String, Generation>> read = replay(new TopicRange(generations.name(),
                ReplayBound.time(from), ReplayBound.time(to)));

        List<String> expected = ids(w -> w.timestamp() >= from.toEpochMilli() && w.timestamp() < to.toEpochMilli());
        assertThat(expected).hasSize(25); // g-10 .. g-34
        assertThat(read).extracting(r -> r.value().getGenerationId()).containsExactlyInAnyOrderElementsOf(expected);
    }

    @Test
    void theWholeTopicIsEveryCommittedRecordOnce() {
        List<ConsumerRecord<String, Generation>> read = replay(TopicRange.all(generations.name()));

        assertThat(read).extracting(r -> r.value().getGenerationId())
                .containsExactlyInAnyOrderElementsOf(ids(w -> true)).hasSize(42);
        // Offsets of each partition arrive in order.
        Map<Integer, Long> last = new TreeMap<>();
        for (ConsumerRecord<String, Generation> r : read) {
            assertThat(r.offset()).isGreaterThan(last.getOrDefault(r.partition(), -1L));
            last.put(r.partition(), r.offset());
        }
        List<PartitionRange> ranges = new TopicReplayer(client()).resolve(TopicRange.all(generations.name()));
        assertThat(ranges).extracting(PartitionRange::partition).containsExactly(0, 1, 2);
    }

    @Test
    void anEmptyRangeReadsNothingAndFinishes() {
        assertThat(replay(new TopicRange(generations.name(), ReplayBound.offset(10_000), ReplayBound.edge())))
                .isEmpty();
        assertThat(replay(new TopicRange(generations.name(), ReplayBound.time(Instant.now().plusSeconds(3600)),
                ReplayBound.edge()))).isEmpty();
        assertThat(replay(new TopicRange(generations.name(), ReplayBound.edge(),
                ReplayBound.time(Instant.ofEpochMilli(timestampOf("g-0")))))).isEmpty();
    }

    @Test
    void aMissingTopicIsANamedErrorAndIsNotCreated() throws Exception {
        String missing = generations.name() + ".missing";
        assertThatThrownBy(() -> new TopicReplayer(client()).resolve(TopicRange.all(missing)))
                .isInstanceOf(org.apache.kafka.common.KafkaException.class).hasMessageContaining(missing);
        try (Admin admin = admin()) {
            assertThat(admin.listTopics().names().get()).doesNotContain(missing);
        }
    }

    private static List<ConsumerRecord<String, Generation>> replay(TopicRange range) {
        List<ConsumerRecord<String, Generation>> read = new ArrayList<>();
        ReplaySummary summary = new TopicReplayer(client()).replay(range, generations.keyDeserializer(),
                generations.valueDeserializer(), read::addAll);
        assertThat(summary.total()).isEqualTo(read.size());
        return read;
    }

    private static long timestampOf(String id) {
        return committed.stream().filter(w -> w.id().equals(id)).findFirst().orElseThrow().timestamp();
    }

    private static List<String> ids(Predicate<Written> inRange) {
        return committed.stream().filter(inRange).map(Written::id).toList();
    }

    private static Map<String, Object> client() {
        return Map.of("bootstrap.servers", cluster.bootstrapServers(), "schema.registry.url", cluster.registryUrl());
    }

    private static Admin admin() {
        return Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()));
    }

    private static Set<String> groups() {
        try (Admin admin = admin()) {
            return admin.listGroups().all().get().stream().map(GroupListing::groupId)
                    .collect(java.util.stream.Collectors.toSet());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static Generation generation(String id, int i) {
        return Generation.newBuilder()
                .setGenerationId(id)
                .setPromptId("q-" + (i % 7))
                .setGroupSize(1)
                .setGroupIndex(0)
                .setPromptTokens(List.of(1, 2, 3))
                .setResponseTokens(List.of(4, 5, 6, 7).subList(0, 1 + i % 4))
                .setPromptText("prompt " + (i % 7))
                .setResponseText("response " + i)
                .setBehaviourLogprobs(List.of(-0.5f, -0.5f, -0.5f, -0.5f).subList(0, 1 + i % 4))
                .setPolicyName("policy")
                .setPolicyVersion(i / 10)
                .setWorkerId("w")
                .setFinishReason(FinishReason.EOS)
                .setSampling(new SamplingParams(1.0f, 1.0f, 0, 16, null))
                .setCategory(null)
                .setStartedAt(T0)
                .setCreatedAt(T0)
                .build();
    }
}
