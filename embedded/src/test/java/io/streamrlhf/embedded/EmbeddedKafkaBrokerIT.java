package io.streamrlhf.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The in-process broker against real clients: round trip, transactions, persistence, clean shutdown. */
class EmbeddedKafkaBrokerIT {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBrokerIT.class);
    private static EmbeddedKafkaBroker broker;

    @BeforeAll
    static void startBroker() {
        broker = EmbeddedKafkaBroker.builder().start();
        LOG.info("ephemeral broker started in {} ms", broker.startupMillis());
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void producedRecordsAreConsumedInOrder() throws Exception {
        String topic = "round-trip-" + UUID.randomUUID();
        createTopic(broker.bootstrapServers(), topic, 3);
        try (KafkaProducer<String, String> producer = producer(broker.bootstrapServers(), null)) {
            for (int i = 0; i < 100; i++) {
                producer.send(new ProducerRecord<>(topic, "key-" + (i % 7), "value-" + i)).get();
            }
        }
        List<ConsumerRecord<String, String>> records = consumeAll(broker.bootstrapServers(), topic, "read_uncommitted", 100);
        assertThat(records).hasSize(100);
        assertThat(records).extracting(ConsumerRecord::value).containsExactlyInAnyOrderElementsOf(
                java.util.stream.IntStream.range(0, 100).mapToObj(i -> "value-" + i).toList());
        // Order holds per key (and so per partition).
        List<String> key3 = records.stream().filter(r -> r.key().equals("key-3")).map(ConsumerRecord::value).toList();
        assertThat(key3).containsExactly("value-3", "value-10", "value-17", "value-24", "value-31", "value-38",
                "value-45", "value-52", "value-59", "value-66", "value-73", "value-80", "value-87", "value-94");
    }

    @Test
    void abortedTransactionsAreInvisibleToReadCommitted() throws Exception {
        String topic = "txn-" + UUID.randomUUID();
        createTopic(broker.bootstrapServers(), topic, 1);
        try (KafkaProducer<String, String> producer = producer(broker.bootstrapServers(), "txn-test-" + topic)) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k", "committed-1"));
            producer.send(new ProducerRecord<>(topic, "k", "committed-2"));
            producer.commitTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k", "aborted-1"));
            producer.flush();
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k", "committed-3"));
            producer.commitTransaction();
        }
        assertThat(consumeAll(broker.bootstrapServers(), topic, "read_committed", 3))
                .extracting(ConsumerRecord::value)
                .containsExactly("committed-1", "committed-2", "committed-3");
        // The aborted record is in the log: a read_uncommitted reader sees it.
        assertThat(consumeAll(broker.bootstrapServers(), topic, "read_uncommitted", 4))
                .extracting(ConsumerRecord::value)
                .containsExactly("committed-1", "committed-2", "aborted-1", "committed-3");
    }

    @Test
    void persistentDirectoryKeepsTopicsRecordsAndClusterIdAcrossRestart(@TempDir Path dir) throws Exception {
        Path dataDir = dir.resolve("kafka-data");
        String clusterId;
        int firstPort;
        try (EmbeddedKafkaBroker first = EmbeddedKafkaBroker.builder().dataDir(dataDir).start()) {
            assertThat(first.formattedOnStart()).isTrue();
            assertThat(first.isEphemeral()).isFalse();
            clusterId = first.clusterId();
            firstPort = first.port();
            createTopic(first.bootstrapServers(), "kept", 2);
            try (KafkaProducer<String, String> producer = producer(first.bootstrapServers(), null)) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>("kept", "k" + i, "v" + i)).get();
                }
            }
        }
        assertThat(dataDir.resolve(EmbeddedKafkaBroker.META_PROPERTIES)).isRegularFile();

        long begin = System.nanoTime();
        try (EmbeddedKafkaBroker second = EmbeddedKafkaBroker.builder().dataDir(dataDir).start()) {
            LOG.info("restart on a persistent directory took {} ms (ports {} -> {})",
                    EmbeddedKafkaBroker.millisSince(begin), firstPort, second.port());
            assertThat(second.formattedOnStart()).isFalse();
            assertThat(second.clusterId()).isEqualTo(clusterId);
            try (Admin admin = admin(second.bootstrapServers())) {
                assertThat(admin.describeCluster().clusterId().get()).isEqualTo(clusterId);
                assertThat(admin.listTopics().names().get()).contains("kept");
            }
            assertThat(consumeAll(second.bootstrapServers(), "kept", "read_committed", 10))
                    .extracting(ConsumerRecord::value)
                    .containsExactlyInAnyOrder("v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9");
        }
        assertThat(dataDir).isDirectory();
    }

    @Test
    void closeReleasesBothPortsAndDeletesEphemeralData() {
        EmbeddedKafkaBroker own = EmbeddedKafkaBroker.builder().start();
        Path logDir = own.logDir();
        assertThat(logDir).isDirectory();
        assertThat(LocalPorts.isFree(own.port())).isFalse();
        assertThat(LocalPorts.isFree(own.controllerPort())).isFalse();

        own.close();
        own.close(); // idempotent

        assertThat(LocalPorts.isFree(own.port())).as("client port free after close").isTrue();
        assertThat(LocalPorts.isFree(own.controllerPort())).as("controller port free after close").isTrue();
        assertThat(logDir.getParent()).doesNotExist();
    }

    @Test
    void requestedPortsAreUsedAndBusyPortsAreReportedByNumber() throws Exception {
        int port = LocalPorts.freePort();
        int controllerPort = LocalPorts.freePort();
        try (EmbeddedKafkaBroker own = EmbeddedKafkaBroker.builder().port(port).controllerPort(controllerPort)
                .property("auto.create.topics.enable", "false").start()) {
            assertThat(own.bootstrapServers()).isEqualTo("localhost:" + port);
            assertThat(own.controllerPort()).isEqualTo(controllerPort);
            try (Admin admin = admin(own.bootstrapServers())) {
                String autoCreate = admin.describeConfigs(List.of(new org.apache.kafka.common.config.ConfigResource(
                                org.apache.kafka.common.config.ConfigResource.Type.BROKER, "1")))
                        .all().get().values().iterator().next().get("auto.create.topics.enable").value();
                assertThat(autoCreate).isEqualTo("false");
            }
            assertThat(org.assertj.core.api.Assertions.catchThrowable(
                    () -> EmbeddedKafkaBroker.builder().port(port).start()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("port " + port + " is already in use");
        }
    }

    static void createTopic(String bootstrap, String topic, int partitions) throws Exception {
        try (Admin admin = admin(bootstrap)) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    static Admin admin(String bootstrap) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
    }

    static KafkaProducer<String, String> producer(String bootstrap, String transactionalId) {
        Map<String, Object> config = new java.util.HashMap<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 0));
        if (transactionalId != null) {
            config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        }
        return new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
    }

    /** Reads {@code topic} from the beginning until {@code expected} records or a quiet period after them. */
    static List<ConsumerRecord<String, String>> consumeAll(String bootstrap, String topic, String isolation, int expected) {
        Map<String, Object> config = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(Set.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            // Keep polling a little after reaching the count, so extra (unexpected) records would show up.
            long quietUntil = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, quietUntil)) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                if (records.size() >= expected && quietUntil == Long.MAX_VALUE) {
                    quietUntil = System.nanoTime() + Duration.ofMillis(500).toNanos();
                }
            }
        }
        return records;
    }
}
