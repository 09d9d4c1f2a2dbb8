package io.streamrlhf.producer;

import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/** One test's corner of the shared embedded cluster: its own topic prefix, its topics, and reading helpers. */
public final class ItCluster {

    private final CatalogTopics catalog;

    /** Creates every catalog topic under a fresh prefix with {@code partitions} partitions. */
    public ItCluster(String test, int partitions) {
        this(test, partitions, SharedCluster.get().bootstrapServers());
    }

    /** The same on another broker (a test's own, to stop under its clients), with the shared registry. */
    public ItCluster(String test, int partitions, String bootstrapServers) {
        catalog = CatalogTopics.on(bootstrapServers, SharedCluster.get().registryUrl())
                .prefix("it-" + test + "-" + UUID.randomUUID().toString().substring(0, 8) + ".")
                .partitions(partitions).timeout(Duration.ofSeconds(60)).create();
    }

    public String bootstrap() {
        return catalog.bootstrapServers();
    }

    /** Topic, serde and client settings in one map (a copy; add worker keys to it). */
    public Map<String, Object> settings() {
        return catalog.settings();
    }

    public Topics topics() {
        return catalog.topics();
    }

    /** Publishes a policy version (committed, acks=all). */
    public void publish(PolicyVersion version) throws Exception {
        TopicSpec<String, PolicyVersion> spec = topics().policyVersions();
        Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(),
                ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, PolicyVersion> p = new KafkaProducer<>(props, spec.keySerializer(),
                spec.valueSerializer())) {
            p.send(new ProducerRecord<>(spec.name(), version.getName(), version)).get();
        }
    }

    /** Writes raw bytes records (e.g. checkpoint chunks). */
    public void sendBytes(String topic, Map<String, byte[]> records) throws Exception {
        Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(),
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
                Topics.CHECKPOINT_MAX_MESSAGE_BYTES);
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(props,
                new org.apache.kafka.common.serialization.StringSerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            for (Map.Entry<String, byte[]> e : records.entrySet()) {
                p.send(new ProducerRecord<>(topic, e.getKey(), e.getValue())).get();
            }
        }
    }

    /** Everything on the topic up to its current end, with the given isolation level. */
    public <V> List<ConsumerRecord<String, V>> readAll(TopicSpec<String, V> spec, String isolation) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<ConsumerRecord<String, V>> out = new ArrayList<>();
        try (KafkaConsumer<String, V> c = new KafkaConsumer<>(props, spec.keyDeserializer(),
                spec.valueDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(spec.name(), Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }
}
