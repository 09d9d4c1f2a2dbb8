package io.streamrlhf.learner.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.DlqHeaders;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/** The learner's dead letters are committed in the transaction that publishes the version covering them. */
class PolicyPublisherDeadLetterIT {

    @Test
    void deadLettersAreCommittedWithTheVersionAndNotBefore() throws Exception {
        String prefix = "dl" + UUID.randomUUID().toString().substring(0, 8) + ".";
        CatalogTopics catalog = CatalogTopics.on(SharedCluster.get().bootstrapServers(),
                SharedCluster.get().registryUrl()).prefix(prefix).partitions(1).create();
        Topics topics = catalog.topics();
        Map<String, Object> settings = catalog.settings();
        String dlq = topics.dlq(topics.scored()).name();
        ProducerRecord<byte[], byte[]> letter = DlqHeaders.deadLetter(dlq,
                new ConsumerRecord<>(topics.scored().name(), 0, 41L, "p-1".getBytes(StandardCharsets.UTF_8),
                        new byte[] {9, 9}), new IllegalArgumentException("token id 99 outside the vocabulary"),
                MetricsReporter.COMPONENT);

        try (PolicyPublisher publisher = new PolicyPublisher(topics, settings, "policy")) {
            assertThat(publisher.publish(PolicyPublisher.record("policy", 1, 0, 1, "file:///v1", "ab".repeat(32), 1,
                    Map.of()), null, List.of(letter))).isTrue();
            // A version published already: its dead letters still go, in a transaction of their own.
            assertThat(publisher.publish(PolicyPublisher.record("policy", 1, 0, 1, "file:///v1", "ab".repeat(32), 1,
                    Map.of()), null, List.of(letter))).isFalse();
        }

        List<ConsumerRecord<byte[], byte[]>> dead = readCommitted(settings, dlq);
        assertThat(dead).hasSize(2);
        assertThat(DlqHeaders.read(dead.get(0).headers(), DlqHeaders.SOURCE_OFFSET)).isEqualTo("41");
        assertThat(DlqHeaders.read(dead.get(0).headers(), DlqHeaders.ERROR_MESSAGE)).contains("token id 99");
        assertThat(dead.get(0).value()).containsExactly(9, 9);
        assertThat(readCommitted(settings, topics.policyVersions().name())).hasSize(1);
    }

    private static List<ConsumerRecord<byte[], byte[]>> readCommitted(Map<String, Object> settings, String topic) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.get("bootstrap.servers"));
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = c.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            c.assign(partitions);
            c.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = c.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (partitions.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }
}
