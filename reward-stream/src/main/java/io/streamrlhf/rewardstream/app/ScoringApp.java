package io.streamrlhf.rewardstream.app;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.streamrlhf.ops.BrokerConnection;
import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.judge.ChatJudgeSource;
import io.streamrlhf.rewardstream.scoring.model.PublishedRewardModels;
import io.streamrlhf.rewardstream.scoring.model.ReferenceCheckpoints;
import io.streamrlhf.rewardstream.scoring.model.ReferencePolicy;
import io.streamrlhf.rewardstream.topology.DeadLetterDeserializationHandler;
import io.streamrlhf.rewardstream.topology.DeadLetterProcessingHandler;
import io.streamrlhf.rewardstream.topology.DeadLetters;
import io.streamrlhf.rewardstream.topology.ScoringTopology;
import io.streamrlhf.rewardstream.scoring.model.RewardModelSwapper;
import io.streamrlhf.schemas.chunks.CheckpointChunkReader;
import io.streamrlhf.schemas.chunks.CheckpointUris;
import io.streamrlhf.schemas.signing.VersionSigningConfig;
import io.streamrlhf.schemas.topics.Topics;
import io.streamrlhf.schemas.topics.TopicsConfig;
import io.streamrlhf.schemas.serde.AvroSerdeException;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.CloseOptions.GroupMembershipOperation;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reward stream as a running service: builds the ensemble from {@link RewardStreamConfig}, the topology from
 * {@link ScoringTopology}, and runs it in {@link KafkaStreams} with {@code processing.guarantee=exactly_once_v2} and
 * the dead-letter handlers.
 *
 * <p>The instance is a static member of its group ({@link RewardStreamConfig#groupInstanceId()}): killed and restarted
 * on its state directory, it gets its tasks back at once instead of waiting until the group drops its dead self.
 * {@link #close} leaves the group explicitly, so that a stopped instance's tasks move at once.
 *
 * <pre>{@code
 * try (ScoringApp app = ScoringApp.create(settings)) {   // bootstrap.servers, schema.registry.url, reward.*, ...
 *     app.start();
 *     app.awaitReady(Duration.ofSeconds(60));
 *     app.awaitTermination();                            // until close() or the shutdown hook
 * }
 * }</pre>
 */
public final class ScoringApp implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ScoringApp.class);
    /** Name of the JVM shutdown hook {@link #start()} registers. */
    public static final String SHUTDOWN_HOOK_NAME = "reward-stream-shutdown";
    /** {@code commit.interval.ms} unless the settings give one (Kafka Streams' exactly-once default is 100). */
    public static final long DEFAULT_COMMIT_INTERVAL_MS = 1000;
    /**
     * {@code session.timeout.ms} unless the settings give one (Kafka's default is 45 s): how long a dead instance that
     * is not restarted keeps its tasks. Shorter hands them over sooner; longer lets a live instance ride out a stall of
     * its heartbeat thread (CPU starvation, a long GC pause, a broker failover) without a rebalance, which for a
     * stateful stream means moving and restoring state. A restarted instance does not wait for it (static
     * membership, {@link RewardStreamConfig#STATIC_MEMBERSHIP}).
     */
    public static final int DEFAULT_SESSION_TIMEOUT_MS = 15_000;

    private final RewardStreamConfig config;
    private final Topics topics;
    private final RewardEnsemble ensemble;
    private final ReferencePolicy reference;
    private final DeadLetters deadLetters;
    private final Topology topology;
    private final String normStatsTopic;
    private final Map<String, Object> adminSettings;
    private final KafkaStreams streams;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final KafkaStreamsMetrics streamsMetrics;
    private Thread hook;
    private boolean closed;

    private ScoringApp(Map<String, Object> settings, RewardEnsemble ensemble, MeterRegistry meters) {
        this.config = new RewardStreamConfig(settings);
        this.topics = Topics.create(settings);
        this.ensemble = ensemble;
        this.deadLetters = new DeadLetters(meters);
        this.normStatsTopic = ScoringTopology.normStatsTopic(config.applicationId());
        this.reference = loadReference(config, topics, settings);
        try {
            this.topology = ScoringTopology.build(new ScoringTopology.Settings(topics, ensemble, config.batchSize(),
                    config.batchMaxWait(), config.joinWindow(), deadLetters, normStatsTopic, config.pipelined(),
                    reference, config.pendingMaxWait(), config.pendingMaxLabels()), new RewardModelSwapper(ensemble, new CheckpointChunkReader(settings,
                    config.publishedWait()), VersionSigningConfig.verifier(settings),
                    CheckpointUris.from(topics.checkpoints().name(), settings), meters));
            this.adminSettings = adminSettings(settings);
            this.streams = new KafkaStreams(topology, streamsProperties(settings, config, topics, meters));
        } catch (RuntimeException e) {
            if (reference != null) {
                reference.close();
            }
            throw e;
        }
        // The Streams clients' own metrics (consumer lag, commit rate, task process rate) next to ours.
        this.streamsMetrics = new KafkaStreamsMetrics(streams);
        streamsMetrics.bindTo(meters);
        for (RewardSource source : ensemble.sources()) {
            String name = source.name();
            Gauge.builder("rlhf.reward.source.version", ensemble, e -> e.sources().stream()
                            .filter(s -> s.name().equals(name)).mapToLong(RewardSource::version).findFirst().orElse(-1))
                    .tag("source", name).description("Version of each reward source scoring now (reward models "
                            + "hot-swap from rm.versions)").register(meters);
            if (source instanceof ChatJudgeSource judge) {
                judge.bindTo(meters);
            }
        }
        streams.setUncaughtExceptionHandler(e -> {
            if (AvroSerdeException.isRegistryOutage(e)) {
                // The registry did not answer for schema.registry.retry.max.ms: a new thread re-reads from the last
                // commit, and the deserializer retries again; no record is dead-lettered for an outage.
                LOG.warn("schema registry unavailable; replacing the stream thread to retry: {}", e.toString());
                return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
            }
            LOG.error("reward stream thread failed; shutting this instance down", e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.setStateListener((now, before) -> {
            LOG.info("reward stream state {} -> {}", before, now);
            if (now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.ERROR) {
                stopped.countDown();
            }
        });
    }

    /**
     * The reference policy {@code scoring.reference.checkpoint} names (a directory, or a {@code kafka:} URI of a
     * published policy version, fetched by {@link ReferenceCheckpoints}), or {@code null} when it is empty.
     */
    private static ReferencePolicy loadReference(RewardStreamConfig config, Topics topics,
                                                 Map<String, Object> settings) {
        Optional<String> value = config.referenceCheckpoint();
        if (value.isEmpty()) {
            return null;
        }
        Path dir = ReferenceCheckpoints.resolve(RewardStreamConfig.REFERENCE_CHECKPOINT, value.get(),
                Path.of(config.stateDir()), topics, settings, config.publishedWait());
        try {
            return ReferencePolicy.load(dir);
        } catch (RuntimeException e) {
            throw new ConfigException(RewardStreamConfig.REFERENCE_CHECKPOINT, value.get(),
                    "cannot load the reference policy: " + e.getMessage());
        }
    }

    /**
     * Builds the app from one settings map (what {@code rlhf score} resolves: Kafka, registry, topic and
     * {@link RewardStreamConfig} keys); the ensemble is built from {@code reward.sources}.
     */
    public static ScoringApp create(Map<String, Object> settings) {
        return create(settings, Metrics.globalRegistry);
    }

    /** The same, with the app's meters (scoring, dead letters, Kafka Streams' own) going to {@code meters}. */
    public static ScoringApp create(Map<String, Object> settings, MeterRegistry meters) {
        RewardEnsemble ensemble = ensemble(settings);
        try {
            return new ScoringApp(settings, ensemble, meters);
        } catch (RuntimeException e) {
            ensemble.close();
            throw e;
        }
    }

    /**
     * The ensemble {@code reward.sources} and the other {@code reward.*} keys of {@code settings} describe, with
     * {@code rm:published} sources read from the cluster: what {@code rlhf score} and {@code rlhf rescore} score with.
     */
    public static RewardEnsemble ensemble(Map<String, Object> settings) {
        RewardStreamConfig config = new RewardStreamConfig(settings);
        return RewardEnsemble.builder()
                .addAll(RewardSources.createAll(config.sources(),
                        new PublishedRewardModels(Topics.create(settings), settings, config.publishedWait())))
                .aggregation(config.aggregation())
                .k(config.uncertaintyK())
                .voteThreshold(config.voteThreshold())
                .normalization(config.normalization())
                .onSourceFailure(config.onSourceFailure())
                .build();
    }

    /** Builds the app around a ready ensemble (tests, benchmarks); the app closes it. */
    public static ScoringApp create(Map<String, Object> settings, RewardEnsemble ensemble, MeterRegistry meters) {
        return new ScoringApp(settings, ensemble, meters);
    }

    static Properties streamsProperties(Map<String, Object> settings, RewardStreamConfig config, Topics topics,
                                        MeterRegistry meters) {
        Properties props = new Properties();
        // Streams reads every "topic."-prefixed key as a config of its internal topics, so the catalog's keys
        // (topic.prefix, topic.partitions, ...) and ours stay out; everything else (client, security, serde and
        // Streams settings) passes through.
        Set<String> ours = new HashSet<>(TopicsConfig.definition().names());
        ours.addAll(RewardStreamConfig.definition().names());
        settings.forEach((k, v) -> {
            if (v != null && !ours.contains(k)) {
                props.put(k, v);
            }
        });
        // Scored batches ask for their own commits (MicroBatchScorer), so the interval only bounds how long
        // preferences and state wait: one transaction a second, not ten, while feedback trickles in.
        props.putIfAbsent(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, DEFAULT_COMMIT_INTERVAL_MS);
        props.putIfAbsent(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, DEFAULT_SESSION_TIMEOUT_MS);
        // Kafka Streams appends each stream thread's index, so the threads of one instance are distinct members.
        config.groupInstanceId().ifPresent(id ->
                props.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), id));
        // Changelog and repartition topics hold state as the catalog's topics hold data: same replication, same
        // min.insync.replicas (unset, both are the broker's defaults, which a replicated cluster raises too).
        topics.replicationFactor().ifPresent(r ->
                props.putIfAbsent(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) r));
        topics.minInsyncReplicas().ifPresent(m ->
                props.put(StreamsConfig.topicPrefix(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG), m.toString()));
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, config.streamThreads());
        props.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir());
        props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterDeserializationHandler.class);
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterProcessingHandler.class);
        // Kept off, although Kafka Streams warns at start that it is: in 4.4 the global thread drops the dead-letter
        // records a handler returns, so a bad rm.versions or norm-stats record would vanish. Off, it stops the app,
        // and nothing is lost.
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, false);
        props.put(DeadLetters.METER_REGISTRY_CONFIG, meters);
        props.put(DeadLetterDeserializationHandler.DLQ_TOPICS_CONFIG,
                topics.generations().name() + "," + topics.feedback().name());
        return props;
    }

    /** The topology this app runs. */
    public Topology topology() {
        return topology;
    }

    public RewardEnsemble ensemble() {
        return ensemble;
    }

    public DeadLetters deadLetters() {
        return deadLetters;
    }

    public RewardStreamConfig config() {
        return config;
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    /**
     * Starts the stream threads and registers the shutdown hook {@value #SHUTDOWN_HOOK_NAME}. First makes sure the
     * normalisation statistics topic ({@link ScoringTopology#normStatsTopic}) exists, as Kafka Streams creates its
     * own internal topics: compacted, one partition, the broker's default replication.
     *
     * @throws IllegalStateException when the topic is missing and cannot be created (e.g. no permission)
     */
    public synchronized void start() {
        ensureNormStatsTopic();
        hook = new Thread(() -> close(Duration.ofSeconds(30)), SHUTDOWN_HOOK_NAME);
        Runtime.getRuntime().addShutdownHook(hook);
        LOG.info("reward stream {} starting: ensemble {} aggregated by {}, batch {} or {} ms, reading {}, reference {}",
                config.applicationId(), ensemble.sources().stream().map(s -> s.name()).toList(),
                ensemble.aggregation().wireName(), config.batchSize(), config.batchMaxWait().toMillis(),
                topics.generations().name(), reference == null ? "none"
                        : config.referenceCheckpoint().orElseThrow() + " (" + reference.id() + ")");
        streams.start();
    }

    /** The topic the tasks share their normalisation statistics through. */
    public String normStatsTopic() {
        return normStatsTopic;
    }

    private void ensureNormStatsTopic() {
        try (Admin admin = Admin.create(adminSettings)) {
            if (admin.listTopics().names().get(60, TimeUnit.SECONDS).contains(normStatsTopic)) {
                return;
            }
            Map<String, String> configs = new HashMap<>(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG,
                    TopicConfig.CLEANUP_POLICY_COMPACT));
            topics.minInsyncReplicas().ifPresent(m -> configs.put(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG,
                    m.toString()));
            NewTopic topic = new NewTopic(normStatsTopic, Optional.of(1), topics.replicationFactor()).configs(configs);
            try {
                admin.createTopics(List.of(topic)).all().get(60, TimeUnit.SECONDS);
                LOG.info("created the normalisation statistics topic {}", normStatsTopic);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e; // another instance creating it at the same moment is fine
                }
            }
            awaitLeader(admin);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topic " + normStatsTopic, e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new IllegalStateException("the reward stream needs the compacted topic " + normStatsTopic
                    + " (one partition) to share normalisation statistics between its tasks, and could not create "
                    + "it: " + cause + ". Create it, or grant this application CREATE on it.", cause);
        }
    }

    /**
     * Waits until a broker answers for the new topic's partition with a leader: Kafka Streams' global consumer
     * fails at start ("no partitions available") when the topic's metadata has not reached the broker it asks yet.
     */
    private void awaitLeader(Admin admin) throws InterruptedException, ExecutionException, TimeoutException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                TopicDescription d = admin.describeTopics(List.of(normStatsTopic)).allTopicNames()
                        .get(30, TimeUnit.SECONDS).get(normStatsTopic);
                if (d != null && !d.partitions().isEmpty()
                        && d.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
                    return;
                }
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw e;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("topic " + normStatsTopic + " was created but has no partition leader "
                        + "after 30 s");
            }
            Thread.sleep(100);
        }
    }

    private static Map<String, Object> adminSettings(Map<String, Object> settings) {
        Set<String> known = AdminClientConfig.configNames();
        Map<String, Object> admin = new HashMap<>();
        settings.forEach((k, v) -> {
            if (v != null && known.contains(k)) {
                admin.put(k, v);
            }
        });
        return admin;
    }

    /** Ready: every stream thread is running with its tasks assigned and restored. */
    public boolean isReady() {
        return streams.state() == KafkaStreams.State.RUNNING;
    }

    /** Waits until {@link #isReady()}; false on timeout or when the app stopped first. */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (isReady()) {
                return true;
            }
            if (stopped.getCount() == 0) {
                return false;
            }
            Thread.sleep(50);
        }
        return isReady();
    }

    /**
     * Adds the app's checks: live unless the stream failed; ready when its clients are connected to a broker, it
     * runs with its tasks assigned (Kafka Streams' RUNNING: assigned and restored) and its reward sources are loaded.
     */
    public HealthChecks health(HealthChecks health) {
        return health
                .live("stream not failed", () -> streams.state() != KafkaStreams.State.ERROR)
                .ready("connected", () -> BrokerConnection.isUp(streams.metrics()))
                .ready("assigned", this::isReady)
                .ready("model loaded", () -> !ensemble.sources().isEmpty());
    }

    /** Blocks until the app stops (closed, or the stream failed). */
    public void awaitTermination() throws InterruptedException {
        stopped.await();
    }

    /** Blocks until the app stops or the timeout elapses; true if it stopped. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Stops the streams (committing their last transaction), leaves the group (its tasks move to the other instances
     * at once) and releases the ensemble.
     */
    public void close(Duration timeout) {
        synchronized (this) {
            if (closed) {
                return; // the shutdown hook and the owner may both close
            }
            closed = true;
            if (hook != null && Thread.currentThread() != hook) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException ignored) {
                    // the JVM is already shutting down; the hook is running this
                }
            }
        }
        streams.close(CloseOptions.groupMembershipOperation(GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(timeout));
        streamsMetrics.close();
        ensemble.close();
        if (reference != null) {
            reference.close();
        }
        stopped.countDown();
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(30));
    }

    /**
     * Runs the app from a properties file until the JVM is stopped: {@code ScoringApp FILE}. Used by the crash
     * test's child process and by plain {@code java -cp} deployments; {@code rlhf score} is the usual entry point.
     */
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: ScoringApp <properties file>");
            System.exit(2);
        }
        Properties file = new Properties();
        try (Reader reader = Files.newBufferedReader(Path.of(args[0]))) {
            file.load(reader);
        } catch (IOException e) {
            System.err.println("cannot read " + args[0] + ": " + e.getMessage());
            System.exit(2);
        }
        Map<String, Object> settings = new HashMap<>();
        file.forEach((k, v) -> settings.put((String) k, ((String) v).trim()));
        ScoringApp app = create(settings);
        app.start();
        app.awaitTermination();
    }
}
