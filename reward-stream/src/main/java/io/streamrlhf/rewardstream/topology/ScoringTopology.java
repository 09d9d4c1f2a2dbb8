package io.streamrlhf.rewardstream.topology;

import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.model.ReferencePolicy;
import io.streamrlhf.rewardstream.scoring.model.RewardModelSwapper;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.chunks.CheckpointChunkReader;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The reward stream's graph. Pure: it builds a {@link Topology} from its settings and touches no cluster, so
 * {@code TopologyTestDriver} tests it and {@code ScoringApp} runs it.
 *
 * <pre>
 *  generations ─▶ generations-decode ─┬─▶ score-batcher ──(buffer, norm-stats; rm-versions, shared-norm-stats)──▶ scored
 *                  │ (unreadable)     │        ├──▶ generations.dlq (unscorable)
 *                  ▼                  │        └──▶ norm-stats topic (this task's statistics) ─▶ global shared-norm-stats
 *            generations.dlq          └─▶ generations-window ──(generations-by-id, retained for the join window)
 *                                              │ (each stored generation: retry the labels waiting for it)
 *                                              ▼
 *  feedback ───▶ feedback-decode ─────────▶ feedback-join ──(generations-by-id, feedback-pending,
 *                  │                            │             feedback-joined, feedback-ratings)──▶ preferences
 *                  └─(unreadable)▶ feedback.dlq └─(rejected, or waited past feedback.pending.max.wait.ms)▶ feedback.dlq
 *  rm.versions ──▶ global rm-versions store ──▶ hot swap of the ensemble's reward models
 * </pre>
 *
 * <p>The sources read bytes and the decoders turn them into values, so an unreadable record is dead-lettered while
 * its own offset is processed (see {@link WireDecoder}). The generations and feedback topics share a sub-topology
 * (the join store), so they must have the same partition count; both are keyed by prompt id, so a label meets its
 * generations in one task. A label that names a generation not stored yet waits in {@value #PENDING_STORE} until
 * the generation arrives or {@code pendingMaxWait} passes (see {@link FeedbackJoiner}).
 */
public final class ScoringTopology {
    static final String GENERATIONS_SOURCE = "generations-source";
    static final String GENERATIONS_DECODER = "generations-decode";
    static final String FEEDBACK_SOURCE = "feedback-source";
    static final String FEEDBACK_DECODER = "feedback-decode";
    static final String RM_VERSIONS_SOURCE = "rm-versions-source";
    static final String NORM_STATS_SOURCE = "norm-stats-source";
    static final String BATCHER = "score-batcher";
    static final String WINDOW_WRITER = "generations-window";
    static final String FEEDBACK_JOIN = "feedback-join";
    static final String RM_VERSIONS_PROCESSOR = "rm-versions-apply";
    static final String NORM_STATS_PROCESSOR = "norm-stats-collect";
    static final String SCORED_SINK = "scored-sink";
    static final String GENERATIONS_DLQ_SINK = "generations-dlq-sink";
    static final String FEEDBACK_DLQ_SINK = "feedback-dlq-sink";
    static final String PREFERENCES_SINK = "preferences-sink";
    static final String NORM_STATS_SINK = "norm-stats-sink";

    /** The changelogged micro-batch buffer (one cached value per task: the pending batch). */
    public static final String BUFFER_STORE = "scoring-buffer";
    /** The changelogged normalisation statistics of each task's own partition. */
    public static final String STATS_STORE = "scoring-norm-stats";
    /** The global store of every task's published normalisation statistics, keyed by task id. */
    public static final String NORM_STATS_GLOBAL_STORE = "shared-norm-stats";
    /** The recent generations by id, retained for the feedback join window. */
    public static final String GENERATIONS_STORE = "generations-by-id";
    /** Feedback labels waiting for generations not stored yet, with their indexes ({@link PendingLabels}). */
    public static final String PENDING_STORE = "feedback-pending";
    /** The ids of joined feedback labels, retained as long as the generations, so a re-sent label pairs once. */
    public static final String JOINED_STORE = "feedback-joined";
    /** Earlier RATING labels per prompt, which new ratings of the prompt pair with. */
    public static final String RATINGS_STORE = "feedback-ratings";
    /** The global store of the newest reward-model versions. */
    public static final String RM_VERSIONS_STORE = "rm-versions";

    private ScoringTopology() {
    }

    /**
     * The topic through which the tasks of the application {@code applicationId} share their normalisation
     * statistics: {@code <applicationId>-norm-stats}, compacted, one partition. Scoped by application id like
     * Kafka Streams' own internal topics, since the statistics belong to one application's ensemble.
     */
    public static String normStatsTopic(String applicationId) {
        return applicationId + "-norm-stats";
    }

    /**
     * What the graph needs.
     *
     * @param topics         the topic catalog (names and serdes)
     * @param ensemble       the reward ensemble, shared by every task
     * @param batchSize      records per micro-batch (B)
     * @param maxWait        longest a record waits in a partial batch (T)
     * @param joinWindow     how long generations are kept for the feedback join
     * @param deadLetters    dead-letter headers and metric
     * @param normStatsTopic the topic the tasks share their normalisation statistics through
     *                       ({@link #normStatsTopic(String)})
     * @param pipelined      score each batch on a scorer thread while the stream thread reads the next one
     *                       (see {@link MicroBatchScorer}); off: score on the stream thread
     * @param reference      the frozen reference policy whose log-probs each scored record carries, or {@code null}
     *                       (then the learner runs its reference itself)
     * @param pendingMaxWait   longest a feedback label waits for generations not stored yet before it is
     *                         dead-lettered; zero: it is dead-lettered at once
     * @param pendingMaxLabels most labels one task keeps waiting; a label that finds them all taken is dead-lettered
     */
    public record Settings(Topics topics, RewardEnsemble ensemble, int batchSize, Duration maxWait,
                           Duration joinWindow, DeadLetters deadLetters, String normStatsTopic, boolean pipelined,
                           ReferencePolicy reference, Duration pendingMaxWait, int pendingMaxLabels) {

        /** Default of {@code pendingMaxWait}: long enough for a scorer's restart and restore. */
        public static final Duration DEFAULT_PENDING_MAX_WAIT = Duration.ofMinutes(10);
        /** Default of {@code pendingMaxLabels}. */
        public static final int DEFAULT_PENDING_MAX_LABELS = 10_000;

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
            if (normStatsTopic == null || normStatsTopic.isBlank()) {
                throw new IllegalArgumentException("the normalisation statistics topic needs a name");
            }
            if (pendingMaxWait == null || pendingMaxWait.isNegative()) {
                throw new IllegalArgumentException("feedback pending max wait must be >= 0, got " + pendingMaxWait);
            }
            if (pendingMaxLabels < 1) {
                throw new IllegalArgumentException("feedback pending max labels must be >= 1, got "
                        + pendingMaxLabels);
            }
        }
    }

    /** Builds the topology; published reward-model versions load from {@code file:} URIs only. */
    public static Topology build(Settings settings) {
        return build(settings, (CheckpointChunkReader) null);
    }

    /**
     * Builds the topology; published reward-model versions load from {@code file:} URIs or, through
     * {@code chunks}, from the checkpoints topic.
     *
     * @param chunks reads {@code kafka:} checkpoints; null for {@code file:} only
     */
    public static Topology build(Settings settings, CheckpointChunkReader chunks) {
        return build(settings, new RewardModelSwapper(settings.ensemble(), chunks));
    }

    /**
     * Builds the topology; published reward-model versions are applied by {@code swapper} (which checks their
     * signatures and URIs as it was configured to).
     */
    public static Topology build(Settings settings, RewardModelSwapper swapper) {
        Topics topics = settings.topics();
        TopicSpec<String, Generation> generations = topics.generations();
        TopicSpec<String, Feedback> feedback = topics.feedback();
        Topology topology = new Topology();
        var bytes = Serdes.ByteArray();

        topology.addSource(GENERATIONS_SOURCE, bytes.deserializer(), bytes.deserializer(), generations.name());
        topology.addProcessor(GENERATIONS_DECODER, () -> new WireDecoder<>(generations.keyDeserializer(),
                generations.valueDeserializer(), List.of(BATCHER, WINDOW_WRITER), GENERATIONS_DLQ_SINK,
                settings.deadLetters()), GENERATIONS_SOURCE);
        topology.addProcessor(BATCHER, () -> new MicroBatchScorer(settings, swapper), GENERATIONS_DECODER);
        // Cached: only the value pending at a commit reaches RocksDB and the changelog (see PendingBatch).
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(BUFFER_STORE),
                Serdes.String(), Serdes.ByteArray()).withCachingEnabled(), BATCHER);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STATS_STORE),
                Serdes.String(), Serdes.ByteArray()).withCachingEnabled(), BATCHER);
        topology.addSink(SCORED_SINK, topics.scored().name(), topics.scored().keySerializer(),
                topics.scored().valueSerializer(), BATCHER);
        TopicSpec<byte[], byte[]> generationsDlq = topics.dlq(generations);
        topology.addSink(GENERATIONS_DLQ_SINK, generationsDlq.name(), bytes.serializer(), bytes.serializer(),
                GENERATIONS_DECODER, BATCHER);
        topology.addSink(NORM_STATS_SINK, settings.normStatsTopic(), Serdes.String().serializer(),
                bytes.serializer(), BATCHER);

        long windowMs = settings.joinWindow().toMillis();
        topology.addProcessor(WINDOW_WRITER, GenerationWindowWriter::new, GENERATIONS_DECODER);
        // Window size 1 ms: each generation is a point in time; retention is what bounds the join. Values are the
        // generations' bytes as read.
        topology.addStateStore(Stores.windowStoreBuilder(
                Stores.persistentWindowStore(GENERATIONS_STORE, Duration.ofMillis(2 * windowMs + 1),
                        Duration.ofMillis(1), false),
                Serdes.String(), bytes), WINDOW_WRITER);

        topology.addSource(FEEDBACK_SOURCE, bytes.deserializer(), bytes.deserializer(), feedback.name());
        topology.addProcessor(FEEDBACK_DECODER, () -> new WireDecoder<>(feedback.keyDeserializer(),
                feedback.valueDeserializer(), List.of(FEEDBACK_JOIN), FEEDBACK_DLQ_SINK, settings.deadLetters()),
                FEEDBACK_SOURCE);
        // The window writer forwards each stored generation, so the labels waiting for it are tried at once.
        topology.addProcessor(FEEDBACK_JOIN, () -> new FeedbackJoiner(settings), FEEDBACK_DECODER, WINDOW_WRITER);
        topology.connectProcessorAndStateStores(FEEDBACK_JOIN, GENERATIONS_STORE);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(RATINGS_STORE),
                Serdes.String(), Serdes.ByteArray()), FEEDBACK_JOIN);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(PENDING_STORE),
                Serdes.String(), Serdes.ByteArray()), FEEDBACK_JOIN);
        topology.addStateStore(Stores.windowStoreBuilder(
                Stores.persistentWindowStore(JOINED_STORE, Duration.ofMillis(2 * windowMs + 1),
                        Duration.ofMillis(1), false),
                Serdes.String(), bytes), FEEDBACK_JOIN);
        topology.addSink(PREFERENCES_SINK, topics.preferences().name(), topics.preferences().keySerializer(),
                topics.preferences().valueSerializer(), FEEDBACK_JOIN);
        TopicSpec<byte[], byte[]> feedbackDlq = topics.dlq(feedback);
        topology.addSink(FEEDBACK_DLQ_SINK, feedbackDlq.name(), bytes.serializer(), bytes.serializer(),
                FEEDBACK_DECODER, FEEDBACK_JOIN);

        topology.addGlobalStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(RM_VERSIONS_STORE),
                        Serdes.String(), topics.rmVersions().valueSerde()).withLoggingDisabled(),
                RM_VERSIONS_SOURCE, topics.rmVersions().keyDeserializer(), topics.rmVersions().valueDeserializer(),
                topics.rmVersions().name(), RM_VERSIONS_PROCESSOR, () -> new RmVersionsProcessor(swapper));
        topology.addGlobalStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(NORM_STATS_GLOBAL_STORE),
                        Serdes.String(), bytes).withLoggingDisabled(),
                NORM_STATS_SOURCE, Serdes.String().deserializer(), bytes.deserializer(), settings.normStatsTopic(),
                NORM_STATS_PROCESSOR, NormStatsCollector::new);
        return topology;
    }
}
