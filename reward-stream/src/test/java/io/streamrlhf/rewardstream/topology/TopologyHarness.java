package io.streamrlhf.rewardstream.topology;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.model.ReferencePolicy;
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
    static final String NORM_STATS_TOPIC = ScoringTopology.normStatsTopic("topology-test");
    final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    /** The registry the topology reads through; {@code outage.failures} makes its next fetches fail. */
    final OutageRegistry outage = new OutageRegistry(registry);
    final Topics topics = Topics.builder().prefix("t.").registryClient(outage).build();
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
    final TestInputTopic<String, byte[]> sharedStatsIn;
    final TestOutputTopic<String, byte[]> sharedStatsOut;
    final TestInputTopic<byte[], byte[]> rawFeedback;

    /** Scoring on the stream thread, so outputs appear as soon as a batch is complete. */
    TopologyHarness(RewardEnsemble ensemble, int batchSize, Duration maxWait, Duration joinWindow) {
        this(ensemble, batchSize, maxWait, joinWindow, false);
    }

    TopologyHarness(RewardEnsemble ensemble, int batchSize, Duration maxWait, Duration joinWindow,
                    boolean pipelined) {
        this(ensemble, batchSize, maxWait, joinWindow, pipelined, null);
    }

    /** With a reference policy whose log-probs the scored records carry ({@code null}: none). */
    TopologyHarness(RewardEnsemble ensemble, int batchSize, Duration maxWait, Duration joinWindow,
                    boolean pipelined, ReferencePolicy reference) {
        this(ensemble, batchSize, maxWait, joinWindow, pipelined, reference,
                ScoringTopology.Settings.DEFAULT_PENDING_MAX_WAIT, ScoringTopology.Settings.DEFAULT_PENDING_MAX_LABELS);
    }

    /** With the feedback labels' longest wait for their generations and the most labels a task keeps waiting. */
    TopologyHarness(RewardEnsemble ensemble, int batchSize, Duration maxWait, Duration joinWindow,
                    boolean pipelined, ReferencePolicy reference, Duration pendingMaxWait, int pendingMaxLabels) {
        ScoringTopology.Settings settings = new ScoringTopology.Settings(topics, ensemble, batchSize, maxWait,
                joinWindow, deadLetters, NORM_STATS_TOPIC, pipelined, reference, pendingMaxWait, pendingMaxLabels);
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        // As the app runs: exactly-once v2 (the driver commits a transaction after every input record).
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
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
        sharedStatsIn = driver.createInputTopic(NORM_STATS_TOPIC, Serdes.String().serializer(),
                Serdes.ByteArray().serializer());
        sharedStatsOut = driver.createOutputTopic(NORM_STATS_TOPIC, Serdes.String().deserializer(),
                Serdes.ByteArray().deserializer());
        rawFeedback = driver.createInputTopic(topics.feedback().name(), Serdes.ByteArray().serializer(),
                Serdes.ByteArray().serializer());
        preferences = driver.createOutputTopic(topics.preferences().name(), topics.preferences().keyDeserializer(),
                topics.preferences().valueDeserializer());
    }

    @Override
    public void close() {
        driver.close();
    }

}
