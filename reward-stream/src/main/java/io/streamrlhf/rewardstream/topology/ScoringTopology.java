package io.streamrlhf.rewardstream.topology;

import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.model.RewardModelSwapper;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.Objects;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The reward stream's graph. Pure: it builds a {@link Topology} from its settings and touches no cluster, so
 * {@code TopologyTestDriver} tests it and {@code ScoringApp} runs it.
 *
 * <pre>
 *  generations ─┬─▶ score-batcher ──(buffer, norm-stats, rm-versions)──▶ scored
 *               │                  └────────────────────────────────────▶ generations.dlq
 *               └─▶ generations-window ──(generations-by-id, retained for the join window)
 *  feedback ───────▶ feedback-join ──(generations-by-id)──▶ preferences  (rejects ▶ feedback.dlq via the handler)
 *  rm.versions ────▶ global rm-versions store ──▶ hot swap of the ensemble's reward models
 * </pre>
 *
 * <p>The generations and feedback topics share a sub-topology (the join store), so they must have the same
 * partition count; both are keyed by prompt id, so a label meets its generations in one task.
 */
public final class ScoringTopology {
    static final String GENERATIONS_SOURCE = "generations-source";
    static final String FEEDBACK_SOURCE = "feedback-source";
    static final String RM_VERSIONS_SOURCE = "rm-versions-source";
    static final String BATCHER = "score-batcher";
    static final String WINDOW_WRITER = "generations-window";
    static final String FEEDBACK_JOIN = "feedback-join";
    static final String RM_VERSIONS_PROCESSOR = "rm-versions-apply";
    static final String SCORED_SINK = "scored-sink";
    static final String GENERATIONS_DLQ_SINK = "generations-dlq-sink";
    static final String PREFERENCES_SINK = "preferences-sink";

    /** The changelogged micro-batch buffer. */
    public static final String BUFFER_STORE = "scoring-buffer";
    /** The changelogged normalisation statistics. */
    public static final String STATS_STORE = "scoring-norm-stats";
    /** The recent generations by id, retained for the feedback join window. */
    public static final String GENERATIONS_STORE = "generations-by-id";
    /** The global store of the newest reward-model versions. */
    public static final String RM_VERSIONS_STORE = "rm-versions";

    private ScoringTopology() {
    }

    /**
     * What the graph needs.
     *
     * @param topics      the topic catalog (names and serdes)
     * @param ensemble    the reward ensemble, shared by every task
     * @param batchSize   records per micro-batch (B)
     * @param maxWait     longest a record waits in a partial batch (T)
     * @param joinWindow  how long generations are kept for the feedback join
     * @param deadLetters dead-letter headers and metric
     */
    public record Settings(Topics topics, RewardEnsemble ensemble, int batchSize, Duration maxWait,
                           Duration joinWindow, DeadLetters deadLetters) {

        /** Checks the values. */
        public Settings {
            Objects.requireNonNull(topics, "topics");
            Objects.requireNonNull(ensemble, "ensemble");
            Objects.requireNonNull(deadLetters, "deadLetters");
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            }
            if (maxWait == null || maxWait.isNegative() || maxWait.isZero()) {
                throw new IllegalArgumentException("batch max wait must be > 0, got " + maxWait);
            }
            if (joinWindow == null || joinWindow.isNegative() || joinWindow.isZero()) {
                throw new IllegalArgumentException("feedback join window must be > 0, got " + joinWindow);
            }
        }
    }

    /** Builds the topology. */
    public static Topology build(Settings settings) {
        Topics topics = settings.topics();
        TopicSpec<String, ?> generations = topics.generations();
        RewardModelSwapper swapper = new RewardModelSwapper(settings.ensemble());
        Topology topology = new Topology();

        topology.addSource(GENERATIONS_SOURCE, generations.keyDeserializer(), topics.generations().valueDeserializer(),
                generations.name());
        topology.addProcessor(BATCHER, () -> new MicroBatchScorer(settings, swapper), GENERATIONS_SOURCE);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(BUFFER_STORE),
                Serdes.Long(), Serdes.ByteArray()), BATCHER);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STATS_STORE),
                Serdes.String(), Serdes.ByteArray()), BATCHER);
        topology.addSink(SCORED_SINK, topics.scored().name(), topics.scored().keySerializer(),
                topics.scored().valueSerializer(), BATCHER);
        TopicSpec<byte[], byte[]> generationsDlq = topics.dlq(generations);
        topology.addSink(GENERATIONS_DLQ_SINK, generationsDlq.name(), Serdes.ByteArray().serializer(),
                Serdes.ByteArray().serializer(), BATCHER);

        long windowMs = settings.joinWindow().toMillis();
        topology.addProcessor(WINDOW_WRITER, GenerationWindowWriter::new, GENERATIONS_SOURCE);
        // Window size 1 ms: each generation is a point in time; retention is what bounds the join.
        topology.addStateStore(Stores.windowStoreBuilder(
                Stores.persistentWindowStore(GENERATIONS_STORE, Duration.ofMillis(2 * windowMs + 1),
                        Duration.ofMillis(1), false),
                Serdes.String(), topics.generations().valueSerde()), WINDOW_WRITER);

        topology.addSource(FEEDBACK_SOURCE, topics.feedback().keyDeserializer(), topics.feedback().valueDeserializer(),
                topics.feedback().name());
        topology.addProcessor(FEEDBACK_JOIN, () -> new FeedbackJoiner(windowMs), FEEDBACK_SOURCE);
        topology.connectProcessorAndStateStores(FEEDBACK_JOIN, GENERATIONS_STORE);
        topology.addSink(PREFERENCES_SINK, topics.preferences().name(), topics.preferences().keySerializer(),
                topics.preferences().valueSerializer(), FEEDBACK_JOIN);

        topology.addGlobalStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(RM_VERSIONS_STORE),
                        Serdes.String(), topics.rmVersions().valueSerde()).withLoggingDisabled(),
                RM_VERSIONS_SOURCE, topics.rmVersions().keyDeserializer(), topics.rmVersions().valueDeserializer(),
                topics.rmVersions().name(), RM_VERSIONS_PROCESSOR, () -> new RmVersionsProcessor(swapper));
        return topology;
    }
}
