package io.streamrlhf.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.schemas.ClusterFixture;
import io.streamrlhf.schemas.ContractSamples;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.topics.TopicCreator;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/** What DESIGN section 4 relies on: records of an aborted transaction never reach a read_committed reader. */
class TransactionalVisibilityIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Test
    void abortedGenerationsAreInvisibleToReadCommittedButWereWritten() throws Exception {
        EmbeddedCluster cluster = SharedCluster.get();
        Topics topics = Topics.builder().prefix(ClusterFixture.uniquePrefix("txn")).partitions(2)
                .registryUrl(cluster.registryUrl()).build();
        TopicSpec<String, Generation> generations = topics.generations();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            new TopicCreator(admin).create(List.of(generations));
        }

        Map<String, Object> config = ClusterFixture.producerConfig(cluster.bootstrapServers());
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "it-worker-" + topics.prefix());
        try (KafkaProducer<String, Generation> producer = new KafkaProducer<>(config, generations.keySerializer(),
                generations.valueSerializer())) {
            producer.initTransactions();

            producer.beginTransaction();
            for (int i = 0; i < 3; i++) {
                producer.send(new ProducerRecord<>(generations.name(), "aborted-" + i, generation("aborted-" + i)));
            }
            producer.flush(); // really on the broker before the abort
            producer.abortTransaction();

            producer.beginTransaction();
            for (int i = 0; i < 2; i++) {
                producer.send(new ProducerRecord<>(generations.name(), "committed-" + i, generation("committed-" + i)));
            }
            producer.commitTransaction();
        }

        List<String> committed = keys(cluster, generations, "read_committed");
        List<String> everything = keys(cluster, generations, "read_uncommitted");

        assertThat(committed).containsExactlyInAnyOrder("committed-0", "committed-1");
        assertThat(everything).containsExactlyInAnyOrder("aborted-0", "aborted-1", "aborted-2", "committed-0",
                "committed-1");
    }

    private static Generation generation(String id) {
        Generation generation = ContractSamples.generation(8);
        generation.setGenerationId(id);
        return generation;
    }

    private static List<String> keys(EmbeddedCluster cluster, TopicSpec<String, Generation> spec, String isolation) {
        try (KafkaConsumer<String, Generation> consumer = new KafkaConsumer<>(ClusterFixture.consumerConfig(
                cluster.bootstrapServers(), isolation), spec.keyDeserializer(), spec.valueDeserializer())) {
            List<ConsumerRecord<String, Generation>> records = ClusterFixture.readAll(consumer, spec, TIMEOUT);
            records.forEach(r -> assertThat(r.value().getGenerationId()).isEqualTo(r.key()));
            return records.stream().map(ConsumerRecord::key).toList();
        }
    }
}
