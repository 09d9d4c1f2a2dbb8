package io.streamrlhf.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.schemas.ClusterFixture;
import io.streamrlhf.schemas.ContractSamples;
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
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The contract round trip against the container images a real deployment uses (official Apache Kafka in KRaft
 * mode, Apicurio Registry). Skipped, not failed, where no Docker engine is reachable
 * ({@code disabledWithoutDocker}): the build machines have only the docker client, so there the embedded-cluster
 * ITs are the proof and this one runs in CI or on a developer machine with Docker.
 */
@Testcontainers(disabledWithoutDocker = true)
class ContainerizedRoundTripIT {
    @Container
    private static final KafkaContainer KAFKA = new KafkaContainer(DockerImageName.parse("apache/kafka:4.1.0"));

    @Container
    private static final GenericContainer<?> REGISTRY = new GenericContainer<>(
            DockerImageName.parse("apicurio/apicurio-registry:3.0.9"))
            .withExposedPorts(8080)
            .waitingFor(Wait.forHttp("/health/ready").forPort(8080).withStartupTimeout(Duration.ofMinutes(3)));

    @Test
    void everyContractRoundTripsThroughContainerizedKafkaAndApicurio() throws Exception {
        String registryUrl = "http://" + REGISTRY.getHost() + ":" + REGISTRY.getMappedPort(8080) + "/apis/ccompat/v7";
        Topics topics = Topics.builder().prefix(ClusterFixture.uniquePrefix("containers")).partitions(1)
                .registryUrl(registryUrl).build();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.getBootstrapServers()))) {
            new TopicCreator(admin).create(topics.all());
        }
        roundTrip(topics.prompts(), ContractSamples.prompt());
        roundTrip(topics.generations(), ContractSamples.generation());
        roundTrip(topics.scored(), ContractSamples.scored());
        roundTrip(topics.feedback(), ContractSamples.feedback());
        roundTrip(topics.preferences(), ContractSamples.preference());
        roundTrip(topics.policyVersions(), ContractSamples.policyVersion());
        roundTrip(topics.rmVersions(), ContractSamples.rewardModelVersion());
        roundTrip(topics.metrics(), ContractSamples.metric());
    }

    private static <V> void roundTrip(TopicSpec<String, V> spec, V value) throws Exception {
        try (KafkaProducer<String, V> producer = new KafkaProducer<>(ClusterFixture.producerConfig(
                KAFKA.getBootstrapServers()), spec.keySerializer(), spec.valueSerializer())) {
            producer.send(new ProducerRecord<>(spec.name(), "k", value)).get();
        }
        try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(ClusterFixture.consumerConfig(
                KAFKA.getBootstrapServers(), "read_committed"), spec.keyDeserializer(), spec.valueDeserializer())) {
            List<ConsumerRecord<String, V>> records = ClusterFixture.readAll(consumer, spec, Duration.ofSeconds(60));
            assertThat(records).singleElement().satisfies(r -> assertThat(r.value()).isEqualTo(value));
        }
    }
}
