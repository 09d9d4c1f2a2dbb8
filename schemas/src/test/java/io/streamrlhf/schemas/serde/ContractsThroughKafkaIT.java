package io.streamrlhf.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.schemas.ClusterFixture;
import io.streamrlhf.schemas.ContractSamples;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.registry.RestSchemaRegistryClient;
import io.streamrlhf.schemas.topics.DlqHeaders;
import io.streamrlhf.schemas.topics.TopicCreator;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every contract produced and consumed through the real embedded KRaft broker and the real Apicurio registry
 * (Confluent-compatible API), with the catalog's own serdes.
 */
class ContractsThroughKafkaIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static EmbeddedCluster cluster;
    private static Topics topics;

    @BeforeAll
    static void createTopics() {
        cluster = SharedCluster.get();
        topics = Topics.builder().prefix(ClusterFixture.uniquePrefix("contracts")).partitions(2)
                .registryUrl(cluster.registryUrl()).build();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            new TopicCreator(admin).create(topics.all());
        }
    }

    private static <K, V> List<ConsumerRecord<K, V>> produceAndReadBack(TopicSpec<K, V> spec, K key, V value) {
        Map<String, Object> config = ClusterFixture.producerConfig(cluster.bootstrapServers());
        config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.CHECKPOINT_MAX_MESSAGE_BYTES);
        try (KafkaProducer<K, V> producer = new KafkaProducer<>(config, spec.keySerializer(), spec.valueSerializer())) {
            producer.send(new ProducerRecord<>(spec.name(), key, value)).get();
        } catch (Exception e) {
            throw new AssertionError("producing to " + spec.name() + " failed", e);
        }
        try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(ClusterFixture.consumerConfig(
                cluster.bootstrapServers(), "read_committed"), spec.keyDeserializer(), spec.valueDeserializer())) {
            return ClusterFixture.readAll(consumer, spec, TIMEOUT);
        }
    }

    private static <V> void assertRoundTrip(TopicSpec<String, V> spec, String key, V value) {
        // Other tests of this class write to the same topics with other keys.
        List<ConsumerRecord<String, V>> records = produceAndReadBack(spec, key, value).stream()
                .filter(r -> r.key().equals(key)).toList();
        assertThat(records).as(spec.name()).hasSize(1);
        assertThat(records.get(0).key()).isEqualTo(key);
        assertThat(records.get(0).value()).as(spec.name()).isEqualTo(value);
    }

    @Test
    void everyContractRoundTripsThroughBrokerAndRegistry() {
        assertRoundTrip(topics.prompts(), "p-000042", ContractSamples.prompt());
        assertRoundTrip(topics.generations(), "p-000042", ContractSamples.generation());
        assertRoundTrip(topics.scored(), "p-000042", ContractSamples.scored());
        assertRoundTrip(topics.feedback(), "p-000042", ContractSamples.feedback());
        assertRoundTrip(topics.preferences(), "p-000042", ContractSamples.preference());
        assertRoundTrip(topics.policyVersions(), "policy", ContractSamples.policyVersion());
        assertRoundTrip(topics.rmVersions(), "rm-0", ContractSamples.rewardModelVersion());
        assertRoundTrip(topics.metrics(), "learner", ContractSamples.metric());

        // The registry now holds one value subject per Avro topic, under the catalog's prefix.
        List<String> subjects = new RestSchemaRegistryClient(cluster.registryUrl()).subjects();
        for (TopicSpec<?, ?> avro : List.of(topics.prompts(), topics.generations(), topics.scored(), topics.feedback(),
                topics.preferences(), topics.policyVersions(), topics.rmVersions(), topics.metrics())) {
            assertThat(subjects).contains(avro.name() + "-value");
        }
    }

    @Test
    void checkpointChunksAndDeadLettersKeepTheirBytesAndHeaders() {
        // 3 MiB: above the broker's default 1 MiB limit, so this passes only through the topic's own
        // max.message.bytes (and a producer whose max.request.size matches).
        byte[] chunk = new byte[3 << 20];
        for (int i = 0; i < chunk.length; i++) {
            chunk[i] = (byte) (i * 31);
        }
        List<ConsumerRecord<String, byte[]>> chunks = produceAndReadBack(topics.checkpoints(), "policy/18/0", chunk);
        assertThat(chunks).singleElement().satisfies(r -> assertThat(r.value()).isEqualTo(chunk));

        TopicSpec<byte[], byte[]> dlq = topics.dlq(topics.generations());
        byte[] garbage = "not avro".getBytes(StandardCharsets.UTF_8);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(ClusterFixture.producerConfig(
                cluster.bootstrapServers()), dlq.keySerializer(), dlq.valueSerializer())) {
            var failure = AvroSerdeException.locate(new IllegalStateException("unknown magic byte 0x6e"),
                    topics.generations().name(), 1, 77L);
            producer.send(new ProducerRecord<>(dlq.name(), null, "p-1".getBytes(StandardCharsets.UTF_8), garbage,
                    DlqHeaders.describe(topics.generations().name(), 1, 77L, failure, "it", Instant.now()))).get();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(ClusterFixture.consumerConfig(
                cluster.bootstrapServers(), "read_committed"), dlq.keyDeserializer(), dlq.valueDeserializer())) {
            ConsumerRecord<byte[], byte[]> record = ClusterFixture.readAll(consumer, dlq, TIMEOUT).get(0);
            assertThat(record.value()).isEqualTo(garbage);
            assertThat(DlqHeaders.read(record.headers(), DlqHeaders.SOURCE_TOPIC)).isEqualTo(topics.generations().name());
            assertThat(DlqHeaders.read(record.headers(), DlqHeaders.SOURCE_OFFSET)).isEqualTo("77");
            assertThat(DlqHeaders.read(record.headers(), DlqHeaders.ERROR_MESSAGE)).contains("partition 1 offset 77");
        }
    }

    @Test
    void aThirdPartyGenericConsumerConfiguredByPropertiesReadsTheTopic() {
        produceAndReadBack(topics.prompts(), "p-generic", ContractSamples.prompt());
        Map<String, Object> config = new HashMap<>(ClusterFixture.consumerConfig(cluster.bootstrapServers(),
                "read_committed"));
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, GenericAvroDeserializer.class.getName());
        config.put(AvroSerdeConfig.SCHEMA_REGISTRY_URL, cluster.registryUrl());
        try (KafkaConsumer<String, GenericRecord> consumer = new KafkaConsumer<>(config)) {
            List<ConsumerRecord<String, GenericRecord>> records = ClusterFixture.readAll(consumer, topics.prompts(),
                    TIMEOUT);
            assertThat(records).extracting(ConsumerRecord::key).contains("p-generic");
            GenericRecord value = records.get(records.size() - 1).value();
            assertThat(value.getSchema().getFullName()).isEqualTo(Prompt.class.getName());
            assertThat(value.get("category")).hasToString(ContractSamples.prompt().getCategory());
        }
    }
}
