package io.streamrlhf.rewardstream.topology;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.schemas.registry.InMemorySchemaRegistryClient;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.avro.ScoredGeneration;

/** A {@link TopologyTestDriver} over the scoring topology with an in-memory registry, the DLQ handlers and metrics. */
final class TopologyHarness implements AutoCloseable {
    final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    final Topics topics = Topics.builder().prefix("t.").registryClient(registry).build();
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final DeadLetters deadLetters = new DeadLetters(meters);
    final TopologyTestDriver driver;
    final TestInputTopic<String, Generation> generations;
    final TestInputTopic<byte[], byte[]> rawGenerations;
    final TestInputTopic<String, Feedback> feedback;
    final TestInputTopic<String, RewardModelVersion> rmVersions;
    final TestOutputTopic<String, ScoredGeneration> scored;
    final TestOutputTopic<byte[], byte[]> generationsDlq;
    final TestOutputTopic<byte[], byte[]> feedbackDlq;
    final TestOutputTopic<String, PreferencePair> preferences;

    TopologyHarness(RewardEnsemble ensemble, int batchSize, Duration maxWait, Duration joinWindow) {
        ScoringTopology.Settings settings = new ScoringTopology.Settings(topics, ensemble, batchSize, maxWait,
                joinWindow, deadLetters);
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        // The driver runs at-least-once: under exactly_once_v2 TopologyTestDriver (4.4) loses the records a
        // deserialization handler returns for the DLQ. The app runs exactly_once_v2; the ITs check it on a broker.
        props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
                DeadLetterDeserializationHandler.class);
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterProcessingHandler.class);
        props.put(DeadLetters.METER_REGISTRY_CONFIG, meters);
        props.put(DeadLetterDeserializationHandler.DLQ_TOPICS_CONFIG,
                topics.generations().name() + "," + topics.feedback().name());
        driver = new TopologyTestDriver(ScoringTopology.build(settings), props, io.streamrlhf.rewardstream.Fixtures.T0);
        generations = driver.createInputTopic(topics.generations().name(), topics.generations().keySerializer(),
                topics.generations().valueSerializer());
        rawGenerations = driver.createInputTopic(topics.generations().name(), Serdes.ByteArray().serializer(),
                Serdes.ByteArray().serializer());
        feedback = driver.createInputTopic(topics.feedback().name(), topics.feedback().keySerializer(),
                topics.feedback().valueSerializer());
        rmVersions = driver.createInputTopic(topics.rmVersions().name(), topics.rmVersions().keySerializer(),
                topics.rmVersions().valueSerializer());
        scored = driver.createOutputTopic(topics.scored().name(), topics.scored().keyDeserializer(),
                topics.scored().valueDeserializer());
        generationsDlq = driver.createOutputTopic(topics.generations().name() + ".dlq",
                Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer());
        feedbackDlq = driver.createOutputTopic(topics.feedback().name() + ".dlq",
                Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer());
        preferences = driver.createOutputTopic(topics.preferences().name(), topics.preferences().keyDeserializer(),
                topics.preferences().valueDeserializer());
    }

    @Override
    public void close() {
        driver.close();
    }

}
