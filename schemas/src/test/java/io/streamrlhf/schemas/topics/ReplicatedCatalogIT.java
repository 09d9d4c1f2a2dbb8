package io.streamrlhf.schemas.topics;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.embedded.EmbeddedKafkaBroker;
import io.streamrlhf.embedded.LocalPorts;
import io.streamrlhf.schemas.ClusterFixture;
import io.streamrlhf.schemas.ContractSamples;
import io.streamrlhf.schemas.avro.Prompt;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The catalog on three brokers: every topic replicated three times with {@code min.insync.replicas} 2, and
 * transactional {@code acks=all} writes read {@code read_committed} going on, nothing lost or repeated, while one
 * broker is stopped and after it comes back.
 */
class ReplicatedCatalogIT {

    private static final Logger LOG = LoggerFactory.getLogger(ReplicatedCatalogIT.class);
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @Test
    void threeBrokersKeepEveryRecordWhileOneIsDown() throws Exception {
        EmbeddedCluster cluster = EmbeddedCluster.builder().brokers(3).kafkaPort(0).start();
        List<Integer> ports = cluster.kafka().brokers().stream()
                .flatMap(b -> IntStream.of(b.port(), b.controllerPort()).boxed()).toList();
        ProcessHandle registry = cluster.registry().process();
        try {
            LOG.info("3 brokers and the registry ready in {} ms (brokers {} ms)", cluster.startupMillis(),
                    cluster.kafka().startupMillis());
            assertThat(cluster.bootstrapServers().split(",")).hasSize(3);
            assertThat(cluster.replicationFactor()).isEqualTo((short) 3);
            assertThat(cluster.minInsyncReplicas()).isEqualTo(2);

            CatalogTopics catalog = CatalogTopics.on(cluster.bootstrapServers(), cluster.registryUrl())
                    .prefix(ClusterFixture.uniquePrefix("replicated")).partitions(3)
                    .replicationFactor(cluster.replicationFactor()).minInsyncReplicas(cluster.minInsyncReplicas())
                    .create();
            List<String> names = catalog.topics().all().stream().map(TopicSpec::name).toList();
            assertThat(names).hasSize(16);
            try (Admin admin = admin(cluster.bootstrapServers())) {
                Map<String, TopicDescription> described = admin.describeTopics(names).allTopicNames().get();
                for (String name : names) {
                    for (TopicPartitionInfo partition : described.get(name).partitions()) {
                        assertThat(partition.replicas()).as(name + " replicas").hasSize(3);
                    }
                }
                Map<ConfigResource, Config> configs = admin.describeConfigs(names.stream()
                        .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList()).all().get();
                configs.forEach((topic, config) -> assertThat(config.get("min.insync.replicas").value())
                        .as(topic.name() + " min.insync.replicas").isEqualTo("2"));
                // The brokers' own topics, which transactions and consumer groups use, are replicated too.
                String brokerId = String.valueOf(EmbeddedKafkaBroker.NODE_ID);
                Config broker = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.BROKER, brokerId)))
                        .all().get().values().iterator().next();
                assertThat(broker.get("transaction.state.log.replication.factor").value()).isEqualTo("3");
                assertThat(broker.get("offsets.topic.replication.factor").value()).isEqualTo("3");
                assertThat(broker.get("default.replication.factor").value()).isEqualTo("3");
            }

            TopicSpec<String, Prompt> prompts = catalog.topics().prompts();
            Set<String> received = new HashSet<>();
            List<String> duplicates = new ArrayList<>();
            Map<String, Object> producerConfig = ClusterFixture.producerConfig(cluster.bootstrapServers());
            producerConfig.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "replicated-it-" + prompts.name());
            Map<String, Object> consumerConfig = ClusterFixture.consumerConfig(cluster.bootstrapServers(),
                    "read_committed");
            consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, "replicated-it-" + prompts.name());
            try (KafkaProducer<String, Prompt> producer = new KafkaProducer<>(producerConfig,
                         prompts.keySerializer(), prompts.valueSerializer());
                 KafkaConsumer<String, Prompt> consumer = new KafkaConsumer<>(consumerConfig,
                         prompts.keyDeserializer(), prompts.valueDeserializer())) {
                producer.initTransactions();
                consumer.subscribe(List.of(prompts.name()));

                sendInTransactions(producer, prompts.name(), 0, 200);
                consumeUntil(consumer, received, duplicates, 200);

                EmbeddedKafkaBroker stopped = cluster.broker(0);
                long stopBegin = System.nanoTime();
                stopped.stop();
                LOG.info("node 1 stopped in {} ms", (System.nanoTime() - stopBegin) / 1_000_000);
                assertThat(stopped.isRunning()).isFalse();
                try (Admin admin = admin(cluster.bootstrapServers())) {
                    assertThat(admin.describeCluster().nodes().get()).extracting(Node::id)
                            .containsExactlyInAnyOrder(2, 3);
                }
                sendInTransactions(producer, prompts.name(), 200, 400);
                consumeUntil(consumer, received, duplicates, 400);
                try (Admin admin = admin(cluster.bootstrapServers())) {
                    // Two in-sync replicas are enough for acks=all; node 1 is not among them.
                    for (TopicPartitionInfo p : admin.describeTopics(List.of(prompts.name())).allTopicNames().get()
                            .get(prompts.name()).partitions()) {
                        assertThat(p.isr()).extracting(Node::id).doesNotContain(1).hasSize(2);
                    }
                }

                long startBegin = System.nanoTime();
                stopped.start();
                LOG.info("node 1 back in {} ms", (System.nanoTime() - startBegin) / 1_000_000);
                awaitFullIsr(cluster.bootstrapServers(), prompts.name());
                sendInTransactions(producer, prompts.name(), 400, 500);
                consumeUntil(consumer, received, duplicates, 500);
            }
            assertThat(duplicates).as("records read twice").isEmpty();
            assertThat(received).hasSize(500)
                    .containsExactlyInAnyOrderElementsOf(IntStream.range(0, 500).mapToObj(ReplicatedCatalogIT::id)
                            .toList());
        } finally {
            cluster.close();
        }
        assertThat(registry.isAlive()).as("registry process gone").isFalse();
        for (int port : ports) {
            assertThat(LocalPorts.isFree(port)).as("port " + port + " free").isTrue();
        }
    }

    private static String id(int i) {
        return String.format("p-%06d", i);
    }

    /** Prompts {@code from} until {@code to}, 50 to a committed transaction. */
    private static void sendInTransactions(KafkaProducer<String, Prompt> producer, String topic, int from, int to) {
        for (int start = from; start < to; start += 50) {
            producer.beginTransaction();
            for (int i = start; i < Math.min(to, start + 50); i++) {
                Prompt prompt = Prompt.newBuilder(ContractSamples.prompt()).setPromptId(id(i)).build();
                producer.send(new ProducerRecord<>(topic, prompt.getPromptId(), prompt));
            }
            producer.commitTransaction();
        }
    }

    private static void consumeUntil(KafkaConsumer<String, Prompt> consumer, Set<String> received,
                                     Collection<String> duplicates, int expected) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (received.size() < expected && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, Prompt> record : consumer.poll(Duration.ofMillis(200))) {
                assertThat(record.value().getPromptId()).isEqualTo(record.key());
                if (!received.add(record.key())) {
                    duplicates.add(record.key());
                }
            }
            consumer.commitSync();
        }
        assertThat(received).as("prompts read within " + PATIENCE).hasSize(expected);
    }

    /** Waits until every partition of {@code topic} has all three replicas in sync again. */
    private static void awaitFullIsr(String bootstrap, String topic) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        try (Admin admin = admin(bootstrap)) {
            while (true) {
                List<TopicPartitionInfo> partitions = admin.describeTopics(List.of(topic)).allTopicNames().get()
                        .get(topic).partitions();
                if (partitions.stream().allMatch(p -> p.isr().size() == 3)) {
                    return;
                }
                assertThat(System.nanoTime()).as("ISR of " + topic + " back to 3: " + partitions).isLessThan(deadline);
                Thread.sleep(200);
            }
        }
    }

    private static Admin admin(String bootstrap) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
    }
}
