package io.streamrlhf.schemas.chunks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.schemas.ClusterFixture;
import io.streamrlhf.schemas.registry.InMemorySchemaRegistryClient;
import io.streamrlhf.schemas.topics.TopicCreator;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Checkpoint chunks against the real broker: indexed fetches, the scan for unindexed records, tombstones. */
class CheckpointChunksIT {

    private static final Logger LOG = LoggerFactory.getLogger(CheckpointChunksIT.class);

    @Test
    void anIndexedFetchReadsOnlyItsVersionAndIsFasterThanTheScanWith50VersionsOnTheTopic() throws Exception {
        Topics topics = topics("chunk-index");
        Map<String, Object> settings = settings();
        int versions = 50;
        int size = 1024 * 1024;
        List<ChunkIndex> index = new ArrayList<>();
        List<byte[]> written = new ArrayList<>();
        try (CheckpointChunkWriter writer = new CheckpointChunkWriter(topics, settings, versions + 1, 256 * 1024)) {
            for (int v = 1; v <= versions; v++) {
                byte[] bytes = bytes(size, v);
                written.add(bytes);
                index.add(writer.write("policy", v, bytes));
                // Another name's chunks interleave on the same partition, as a reward model's would.
                writer.write(ChunkUri.rewardModelPrefix("rm-0"), v, bytes(1000, -v));
            }
        }
        assertThat(index.get(0).firstOffset()).isZero();
        assertThat(index.get(0).lastOffset()).isEqualTo(4);  // chunks 0..3, then the count
        assertThat(index.get(1).firstOffset()).isEqualTo(7);  // after rm-0's chunk and count

        CheckpointChunkReader reader = new CheckpointChunkReader(settings, Duration.ofSeconds(60));
        String topic = topics.checkpoints().name();
        long target = versions - 1;  // the version before the newest, as a late worker might fetch
        ChunkIndex where = index.get((int) target - 1);
        reader.read(topic, "policy", target, where);  // warm up the client classes and connections
        long[] scanMs = new long[5];
        long[] indexedMs = new long[5];
        for (int i = 0; i < scanMs.length; i++) {
            long t0 = System.nanoTime();
            byte[] scanned = reader.read(topic, "policy", target, null);
            long t1 = System.nanoTime();
            byte[] indexed = reader.read(topic, "policy", target, where);
            long t2 = System.nanoTime();
            assertThat(scanned).isEqualTo(written.get((int) target - 1));
            assertThat(indexed).isEqualTo(written.get((int) target - 1));
            scanMs[i] = (t1 - t0) / 1_000_000;
            indexedMs[i] = (t2 - t1) / 1_000_000;
        }
        Arrays.sort(scanMs);
        Arrays.sort(indexedMs);
        LOG.info("fetch of a 1 MiB checkpoint with {} versions ({} MiB) on the topic: scan median {} ms (runs {}), "
                + "indexed median {} ms (runs {})", versions, versions, scanMs[2], scanMs, indexedMs[2], indexedMs);
        System.out.printf("chunk fetch, %d versions of 1 MiB on the topic: scan median %d ms, indexed median %d ms%n",
                versions, scanMs[2], indexedMs[2]);
        assertThat(indexedMs[2]).isLessThan(scanMs[2]);
        // Both reader paths agree for the reward model's interleaved chunks too.
        assertThat(reader.read(topic, "rm/rm-0", 7, null)).isEqualTo(bytes(1000, -7));
    }

    @Test
    void versionsBeyondTheKeptOnesAreTombstonedAndTheNewestStayFetchableAlsoAfterARestart() throws Exception {
        Topics topics = topics("chunk-tomb");
        Map<String, Object> settings = settings();
        String topic = topics.checkpoints().name();
        Map<Long, ChunkIndex> index = new HashMap<>();
        try (CheckpointChunkWriter writer = new CheckpointChunkWriter(topics, settings, 3, 100)) {
            for (long v = 1; v <= 6; v++) {
                index.put(v, writer.write("p", v, bytes(250, (int) v)));  // three chunks each
                List<Long> retired = writer.retire("p");
                assertThat(retired).as("retired after version %d", v).isEqualTo(v > 3 ? List.of(v - 3) : List.of());
            }
            assertThat(writer.liveVersions("p")).containsExactly(4L, 5L, 6L);
        }
        Map<String, byte[]> latest = latestByKey(settings, topic);
        for (long v = 1; v <= 3; v++) {
            for (String suffix : List.of("0", "1", "2", "count")) {
                assertThat(latest).as("p/%d/%s", v, suffix).containsKey("p/" + v + "/" + suffix);
                assertThat(latest.get("p/" + v + "/" + suffix)).as("p/%d/%s", v, suffix).isNull();
            }
        }
        CheckpointChunkReader reader = new CheckpointChunkReader(settings, Duration.ofSeconds(5));
        for (long v = 4; v <= 6; v++) {
            assertThat(latest.get("p/" + v + "/count")).isNotNull();
            assertThat(reader.read(topic, "p", v, index.get(v))).isEqualTo(bytes(250, (int) v));
            assertThat(reader.read(topic, "p", v, null)).isEqualTo(bytes(250, (int) v));
        }
        assertThatThrownBy(() -> reader.read(topic, "p", 2, null)).isInstanceOf(ChunkReadException.class)
                .hasMessageContaining("no chunk count record p/2/count");

        // A new writer (a restarted publisher) learns the live versions from the topic and goes on retiring.
        try (CheckpointChunkWriter writer = new CheckpointChunkWriter(topics, settings, 3, 100)) {
            assertThat(writer.liveVersions("p")).containsExactly(4L, 5L, 6L);
            writer.write("p", 7, bytes(250, 7));
            assertThat(writer.retire("p")).containsExactly(4L);
        }
        assertThat(latestByKey(settings, topic).get("p/4/count")).isNull();
        assertThat(reader.read(topic, "p", 7, null)).isEqualTo(bytes(250, 7));
    }

    @Test
    void aBaseThatAKeptDeltaNeedsIsNotTombstoned() throws Exception {
        Topics topics = topics("chunk-base");
        Map<String, Object> settings = settings();
        String topic = topics.checkpoints().name();
        try (CheckpointChunkWriter writer = new CheckpointChunkWriter(topics, settings, 2, 100)) {
            for (long v = 1; v <= 5; v++) {
                writer.write("p", v, bytes(150, (int) v));
            }
            // versions 4 and 5 are kept; say 4 is a delta on 3, a delta on the full version 2
            assertThat(writer.retire("p", 2)).containsExactly(1L);
            assertThat(writer.liveVersions("p")).containsExactly(2L, 3L, 4L, 5L);
            // once a newer full version leaves the chain behind, the rest goes
            assertThat(writer.retire("p", 4)).containsExactly(2L, 3L);
        }
        CheckpointChunkReader reader = new CheckpointChunkReader(settings, Duration.ofSeconds(5));
        assertThat(reader.read(topic, "p", 4, null)).isEqualTo(bytes(150, 4));
        assertThat(latestByKey(settings, topic).get("p/3/count")).isNull();
    }

    @Test
    void keptBelowTwoIsRefusedNamingTheReason() {
        Topics topics = Topics.builder().prefix("unused.").registryClient(new InMemorySchemaRegistryClient()).build();
        assertThatThrownBy(() -> new CheckpointChunkWriter(topics, settings(), 1, 100))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 2");
    }

    @Test
    void chunkUrisRoundTripWithSlashesInTheirPrefix() {
        ChunkUri uri = ChunkUri.parse("kafka:rlhf.checkpoints/rm/rm-0/12");
        assertThat(uri).isEqualTo(new ChunkUri("rlhf.checkpoints", "rm/rm-0", 12));
        assertThat(uri.toString()).isEqualTo("kafka:rlhf.checkpoints/rm/rm-0/12");
        assertThatThrownBy(() -> ChunkUri.parse("kafka:rlhf.checkpoints/policy/v7"))
                .hasMessageContaining("'v7' is not a version number");
        assertThatThrownBy(() -> ChunkUri.parse("kafka:rlhf.checkpoints/7")).hasMessageContaining("expected kafka:");
    }

    private static Topics topics(String test) throws Exception {
        Topics topics = Topics.builder().prefix(ClusterFixture.uniquePrefix(test))
                .registryClient(new InMemorySchemaRegistryClient()).build();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                SharedCluster.get().bootstrapServers()))) {
            new TopicCreator(admin).create(List.of(topics.checkpoints()));
        }
        return topics;
    }

    private static Map<String, Object> settings() {
        EmbeddedCluster cluster = SharedCluster.get();
        return new HashMap<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()));
    }

    private static Map<String, byte[]> latestByKey(Map<String, Object> settings, String topic) {
        Map<String, Object> props = ClusterFixture.consumerConfig((String) settings.get("bootstrap.servers"),
                "read_committed");
        Map<String, byte[]> latest = new HashMap<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            var partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            var end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))
                    && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    latest.put(r.key(), r.value());
                }
            }
        }
        return latest;
    }

    private static byte[] bytes(int size, int seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }
}
