package io.streamrlhf.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The nodes of one cluster started one at a time ({@link EmbeddedKafkaCluster#startNode}), as {@code rlhf cluster node}
 * processes start them: together they form the cluster, a node stopped and started again on its directory rejoins with
 * the data it had, and the directory is the one a whole cluster in one JVM opens ({@code node-i}, one cluster id).
 */
class ClusterNodesIT {

    private static final Duration START = Duration.ofSeconds(120);

    @Test
    void nodesStartedAloneFormOneClusterAndANodeStartedAgainRejoins(@TempDir Path dir) throws Exception {
        String clusterId = EmbeddedKafkaCluster.clusterIdIn(dir, 3);
        int port = freeRun(6);
        List<CompletableFuture<EmbeddedKafkaBroker>> starting = new ArrayList<>();
        for (int node = 1; node <= 3; node++) {
            int id = node;
            // together: no node is ready before a majority of the quorum runs
            starting.add(CompletableFuture.supplyAsync(() -> EmbeddedKafkaCluster.startNode(id, 3, dir, port,
                    port + 3, clusterId, START)));
        }
        List<EmbeddedKafkaBroker> nodes = new ArrayList<>(starting.stream().map(CompletableFuture::join).toList());
        String bootstrap = nodes.stream().map(EmbeddedKafkaBroker::bootstrapServers).collect(Collectors.joining(","));
        String topic = "nodes-" + UUID.randomUUID();
        try {
            assertThat(nodes).extracting(EmbeddedKafkaBroker::port).containsExactly(port, port + 1, port + 2);
            assertThat(nodes).extracting(EmbeddedKafkaBroker::logDir)
                    .containsExactly(dir.resolve("node-1"), dir.resolve("node-2"), dir.resolve("node-3"));
            assertThat(nodes).allMatch(EmbeddedKafkaBroker::formattedOnStart);
            try (Admin admin = EmbeddedKafkaBrokerIT.admin(bootstrap)) {
                // the cluster's defaults: replication factor 3, min.insync.replicas 2
                admin.createTopics(List.of(new NewTopic(topic, 1, (short) 3))).all().get();
                assertThat(admin.describeCluster().nodes().get()).hasSize(3);
            }
            try (KafkaProducer<String, String> producer = EmbeddedKafkaBrokerIT.producer(bootstrap, null)) {
                producer.send(new ProducerRecord<>(topic, "k", "before")).get();
                nodes.get(1).close();
                producer.send(new ProducerRecord<>(topic, "k", "while node 2 is down")).get();
            }
            EmbeddedKafkaBroker again = EmbeddedKafkaCluster.startNode(2, 3, dir, port, port + 3, clusterId, START);
            nodes.set(1, again);
            assertThat(again.formattedOnStart()).as("node 2 reused its storage").isFalse();
            assertThat(EmbeddedKafkaCluster.clusterIdIn(dir, 3)).isEqualTo(clusterId);
            try (KafkaProducer<String, String> producer = EmbeddedKafkaBrokerIT.producer(bootstrap, null)) {
                producer.send(new ProducerRecord<>(topic, "k", "after")).get();
            }
        } finally {
            EmbeddedKafkaCluster.closeAll(nodes);
        }

        try (EmbeddedKafkaCluster whole = EmbeddedKafkaCluster.builder().brokers(3).dataDir(dir).start()) {
            assertThat(whole.clusterId()).isEqualTo(clusterId);
            assertThat(EmbeddedKafkaBrokerIT.consumeAll(whole.bootstrapServers(), topic, "read_committed", 3))
                    .extracting(ConsumerRecord::value).containsExactly("before", "while node 2 is down", "after");
        }
    }

    /** The first of {@code n} consecutive free ports below the ephemeral range. */
    private static int freeRun(int n) {
        SplittableRandom random = new SplittableRandom();
        for (int attempt = 0; attempt < 200; attempt++) {
            int first = 20_000 + random.nextInt(12_000 - n);
            boolean free = true;
            for (int i = 0; i < n && free; i++) {
                free = LocalPorts.isFree(first + i);
            }
            if (free) {
                return first;
            }
        }
        throw new IllegalStateException("no " + n + " consecutive free ports");
    }
}
