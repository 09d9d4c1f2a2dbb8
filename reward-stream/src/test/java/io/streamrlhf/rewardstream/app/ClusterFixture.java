package io.streamrlhf.rewardstream.app;

import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;

/** One topic catalog under a fresh prefix on the JVM's shared embedded cluster, with produce and read helpers. */
final class ClusterFixture {
    final String bootstrap = SharedCluster.get().bootstrapServers();
    final Topics topics;
    private final CatalogTopics catalog;

    ClusterFixture(String name, int partitions) {
        this.catalog = CatalogTopics.on(bootstrap, SharedCluster.get().registryUrl())
                .prefix(name + "-" + UUID.randomUUID().toString().substring(0, 8) + ".").partitions(partitions)
                .timeout(Duration.ofSeconds(30)).create();
        this.topics = catalog.topics();
    }

    /** Kafka, registry and topic settings (a fresh mutable map). */
    Map<String, Object> settings() {
        return catalog.settings();
    }

    /** Writes generations in one transaction (keys: prompt ids). */
    void produce(List<Generation> generations) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "it-producer-" + UUID.randomUUID());
        TopicSpec<String, Generation> spec = topics.generations();
        try (KafkaProducer<String, Generation> producer = new KafkaProducer<>(p, spec.keySerializer(),
                spec.valueSerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            for (Generation g : generations) {
                producer.send(new ProducerRecord<>(spec.name(), g.getPromptId(), g));
            }
            producer.commitTransaction();
        }
    }

    /** Writes raw bytes to a topic. */
    void produceRaw(String topic, byte[] key, byte[] value) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p,
                new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, key, value));
            producer.flush();
        }
    }

    /** A read_committed consumer of {@code topic} from the beginning. */
    <K, V> KafkaConsumer<K, V> committedReader(String topic, Deserializer<K> keys, Deserializer<V> values) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "it-reader-" + UUID.randomUUID());
        KafkaConsumer<K, V> consumer = new KafkaConsumer<>(p, keys, values);
        consumer.subscribe(List.of(topic));
        return consumer;
    }

    /** Polls into {@code into} for {@code time}. */
    static <K, V> void drain(KafkaConsumer<K, V> consumer, List<ConsumerRecord<K, V>> into, Duration time) {
        long end = System.nanoTime() + time.toNanos();
        while (System.nanoTime() < end) {
            for (ConsumerRecord<K, V> r : consumer.poll(Duration.ofMillis(200))) {
                into.add(r);
            }
        }
    }

    /** Polls until {@code into} holds at least {@code n} records or {@code timeout} passes. */
    static <K, V> void pollUntil(KafkaConsumer<K, V> consumer, List<ConsumerRecord<K, V>> into, int n,
                                 Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (into.size() < n && System.nanoTime() < end) {
            for (ConsumerRecord<K, V> r : consumer.poll(Duration.ofMillis(200))) {
                into.add(r);
            }
        }
    }

    static <T> List<T> values(List<? extends ConsumerRecord<?, T>> records) {
        List<T> out = new ArrayList<>();
        records.forEach(r -> out.add(r.value()));
        return out;
    }

    static Serializer<byte[]> bytes() {
        return new org.apache.kafka.common.serialization.ByteArraySerializer();
    }
}
