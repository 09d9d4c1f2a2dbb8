package io.streamrlhf.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import io.streamrlhf.embedded.testing.SharedCluster;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Broker and registry together: parallel start, the cluster's data layout, a clean stop, the shared test cluster. */
class EmbeddedClusterIT {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedClusterIT.class);

    @Test
    void startsBothInParallelServesBothAndStopsBoth(@TempDir Path cache) throws Exception {
        // Cold: the registry zip is unpacked into an empty cache. Warm: the same cache again.
        EmbeddedCluster cold = EmbeddedCluster.builder().registryCacheDir(cache).start();
        long coldMillis = cold.startupMillis();
        long coldBroker = cold.broker().startupMillis();
        long coldRegistry = cold.registry().startupMillis();
        cold.close();

        EmbeddedCluster cluster = EmbeddedCluster.builder().registryCacheDir(cache).start();
        ProcessHandle registryProcess = cluster.registry().process();
        int kafkaPort = cluster.broker().port();
        int controllerPort = cluster.broker().controllerPort();
        int registryPort = cluster.registry().port();
        try {
            LOG.info("cluster start-up: cold {} ms (broker {} ms, registry incl. unpack {} ms); "
                            + "warm {} ms (broker {} ms, registry {} ms)",
                    coldMillis, coldBroker, coldRegistry, cluster.startupMillis(), cluster.broker().startupMillis(),
                    cluster.registry().startupMillis());
            // In parallel: the whole start took less than the two parts one after the other.
            assertThat(coldMillis).isLessThan(coldBroker + coldRegistry);
            assertThat(cluster.startupMillis()).isLessThan(cluster.broker().startupMillis()
                    + cluster.registry().startupMillis());
            assertThat(cluster.dataDir()).isNull();
            assertThat(cluster.bootstrapServers()).isEqualTo("localhost:" + kafkaPort);
            assertThat(cluster.registryUrl()).isEqualTo("http://localhost:" + registryPort + "/apis/ccompat/v7");

            String topic = "cluster-" + UUID.randomUUID();
            EmbeddedKafkaBrokerIT.createTopic(cluster.bootstrapServers(), topic, 1);
            try (KafkaProducer<String, String> producer = EmbeddedKafkaBrokerIT.producer(cluster.bootstrapServers(), null)) {
                producer.send(new ProducerRecord<>(topic, "k", "hello")).get();
            }
            assertThat(EmbeddedKafkaBrokerIT.consumeAll(cluster.bootstrapServers(), topic, "read_committed", 1))
                    .extracting(ConsumerRecord::value).containsExactly("hello");
            int id = EmbeddedRegistryIT.register(cluster.registryUrl(), topic + "-value",
                    EmbeddedRegistryIT.avroSchema("Hello"));
            assertThat(EmbeddedRegistryIT.get(cluster.registryUrl() + "/schemas/ids/" + id).body()).contains("Hello");
        } finally {
            cluster.close();
        }
        cluster.close(); // idempotent

        assertThat(registryProcess.isAlive()).as("registry process gone").isFalse();
        assertThat(LocalPorts.isFree(kafkaPort)).as("Kafka port free").isTrue();
        assertThat(LocalPorts.isFree(controllerPort)).as("controller port free").isTrue();
        assertThat(LocalPorts.isFree(registryPort)).as("registry port free").isTrue();
    }

    @Test
    void aDataDirectoryKeepsTopicsRecordsAndSchemaIdsAcrossRestart(@TempDir Path dataDir) throws Exception {
        String topic = "kept-" + UUID.randomUUID();
        int schemaId;
        try (EmbeddedCluster first = EmbeddedCluster.builder().dataDir(dataDir).start()) {
            EmbeddedKafkaBrokerIT.createTopic(first.bootstrapServers(), topic, 1);
            try (KafkaProducer<String, String> producer = EmbeddedKafkaBrokerIT.producer(first.bootstrapServers(), null)) {
                producer.send(new ProducerRecord<>(topic, "k", "survives")).get();
            }
            schemaId = EmbeddedRegistryIT.register(first.registryUrl(), topic + "-value",
                    EmbeddedRegistryIT.avroSchema("Kept"));
        }
        assertThat(dataDir.resolve("kafka").resolve(EmbeddedKafkaBroker.META_PROPERTIES)).isRegularFile();
        assertThat(dataDir.resolve("registry")).isDirectory();

        try (EmbeddedCluster second = EmbeddedCluster.builder().dataDir(dataDir).start()) {
            assertThat(second.broker().formattedOnStart()).isFalse();
            try (Admin admin = EmbeddedKafkaBrokerIT.admin(second.bootstrapServers())) {
                assertThat(admin.listTopics().names().get()).contains(topic);
            }
            assertThat(EmbeddedKafkaBrokerIT.consumeAll(second.bootstrapServers(), topic, "read_committed", 1))
                    .extracting(ConsumerRecord::value).containsExactly("survives");
            // Records written before the restart name this schema id; it must still resolve.
            assertThat(EmbeddedRegistryIT.get(second.registryUrl() + "/schemas/ids/" + schemaId).body())
                    .contains("Kept");
        }
    }

    @Test
    void sharedClusterIsStartedOnceAndHandedToEveryCaller() throws Exception {
        EmbeddedCluster shared = SharedCluster.get();
        assertThat(SharedCluster.isStarted()).isTrue();
        assertThat(SharedCluster.get()).isSameAs(shared);
        try (Admin admin = EmbeddedKafkaBrokerIT.admin(shared.bootstrapServers())) {
            assertThat(admin.describeCluster().nodes().get()).extracting(n -> n.id())
                    .isEqualTo(List.of(EmbeddedKafkaBroker.NODE_ID));
        }
        assertThat(EmbeddedRegistryIT.get(shared.registry().baseUrl() + EmbeddedRegistry.READY_PATH).statusCode())
                .isEqualTo(200);
    }
}
