package io.streamrlhf.loop.stack;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** {@code rlhf status} reads a real cluster: the lag a group left, the newest policy version, the dead letters. */
class ClusterStatusIT {

    @Test
    void lagPerGroupVersionsAndDeadLettersAreReadFromTheCluster() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.builder().start()) {
            CatalogTopics catalog = CatalogTopics.on(cluster.bootstrapServers(), cluster.registryUrl())
                    .partitions(1).replicationFactor((short) 1).registerSchemas(true).create();
            Topics topics = catalog.topics();
            String prompts = topics.prompts().name();
            String dlq = topics.dlq(topics.generations()).name();
            Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
            try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props, new ByteArraySerializer(),
                    new ByteArraySerializer())) {
                for (int i = 0; i < 10; i++) {
                    p.send(new ProducerRecord<>(prompts, new byte[] {(byte) i})).get();
                }
                for (int i = 0; i < 3; i++) {
                    p.send(new ProducerRecord<>(dlq, new byte[] {(byte) i})).get();
                }
            }
            TopicSpec<String, PolicyVersion> versions = topics.policyVersions();
            try (KafkaProducer<String, PolicyVersion> p = new KafkaProducer<>(props, versions.keySerializer(),
                    versions.valueSerializer())) {
                for (long v : List.of(1L, 4L)) {
                    p.send(new ProducerRecord<>(versions.name(), "chat", PolicyVersion.newBuilder().setName("chat")
                            .setVersion(v).setParentVersion(v - 1).setStep(v).setCheckpointUri("file:/v" + v)
                            .setSha256("0".repeat(64)).setSizeBytes(1).setCreatedAt(Instant.now())
                            .setMetrics(Map.of()).build())).get();
                }
            }
            Map<String, Object> consumer = new HashMap<>(props);
            consumer.put(ConsumerConfig.GROUP_ID_CONFIG, "rlhf-workers-chat");
            try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumer, new ByteArrayDeserializer(),
                    new ByteArrayDeserializer())) {
                c.commitSync(Map.of(new TopicPartition(prompts, 0), new OffsetAndMetadata(6)));
            }

            ClusterStatus status = ClusterStatus.read(catalog.settings(), Duration.ofSeconds(30));
            assertThat(status.brokers()).isEqualTo(1);
            assertThat(status.lag()).containsEntry("rlhf-workers-chat", Map.of(prompts, 4L));
            assertThat(status.policies()).containsExactly(Map.entry("chat", 4L));
            assertThat(status.rewards()).isEmpty();
            assertThat(status.deadLetters()).containsEntry(dlq, 3L)
                    .containsEntry(topics.dlq(topics.scored()).name(), 0L);

            StringWriter text = new StringWriter();
            status.print(new PrintWriter(text));
            assertThat(text.toString()).contains("policy versions: chat v4", "reward-model versions: none published")
                    .containsPattern("rlhf-workers-chat\\s+" + prompts.replace(".", "\\.") + "\\s+4")
                    .containsPattern(dlq.replace(".", "\\.") + "\\s+3");
        }
    }
}
