package io.streamrlhf.learner.app;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.streamrlhf.learner.KafkaClients;
import io.streamrlhf.learner.checkpoint.CheckpointFencedException;
import io.streamrlhf.learner.checkpoint.DedupWindow;
import io.streamrlhf.learner.checkpoint.LearnerCheckpoint;
import io.streamrlhf.learner.checkpoint.LearnerCheckpointStore;
import io.streamrlhf.learner.checkpoint.LedgerEntry;
import io.streamrlhf.learner.checkpoint.LedgerSegment;
import io.streamrlhf.learner.lease.LearnerLease;
import io.streamrlhf.learner.lease.Takeover;
import io.streamrlhf.learner.ppo.JsonlPtx;
import io.streamrlhf.learner.ppo.PpoConfig;
import io.streamrlhf.learner.ppo.PpoStats;
import io.streamrlhf.learner.ppo.PpoUpdate;
import io.streamrlhf.learner.ppo.PtxSource;
import io.streamrlhf.learner.ppo.RolloutSample;
import io.streamrlhf.learner.ppo.SyntheticCorpusPtx;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.checkpoint.ModelWeights;
import io.streamrlhf.models.critic.ValueModel;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import io.streamrlhf.models.load.CriticLoader;
import io.streamrlhf.models.load.PolicyLoader;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.ops.BrokerConnection;
import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.serde.AvroSerdeException;
import io.streamrlhf.schemas.topics.DlqHeaders;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The streaming learner: consumes {@code scored} with {@code read_committed}, assembles batches,
 * runs {@link PpoUpdate}, and every {@code learner.publish.every.updates} updates writes a
 * checkpoint and publishes the new {@code PolicyVersion}.
 *
 * <p>With {@code ppo.critic=separate} a critic model of its own ({@link ValueModel}) is trained beside the policy:
 * it starts from the reward model at {@code learner.critic.init} and then lives in the learner's checkpoints.
 *
 * <p>Exactly once (DESIGN §4): a checkpoint holds the weights (a separate critic's too), optimiser and
 * reward-scaler state, the policy version, the offsets trained up to and the ledger of consumed generation
 * ids (a chain of immutable segments; each checkpoint adds one with the entries of its own updates). On start the
 * learner loads the newest complete checkpoint, seeks to its offsets and skips records already in
 * its ledger (records of incomplete groups can sit before a checkpoint's offset while later ones
 * were trained). Only ids at or after the checkpoint offsets can be read again, so only those are
 * kept in memory ({@link DedupWindow}); each checkpoint forgets the ids its offsets have passed.
 * Updates after the newest checkpoint are lost in a crash and redone from the same records, so every
 * record contributes to exactly one committed update.
 *
 * <p>One active learner per policy ({@link LearnerLease}, docs/learner.md "Standby learners"): {@link #run()} first
 * stands by until this learner holds the lease, and only then fences earlier leaders, resumes from the newest
 * checkpoint and subscribes to {@code scored}. What guarantees what:
 * <ul>
 *   <li>the lease: at most one learner <em>believes</em> it is active, except for a presumed-dead one that has not
 *       polled yet; one that gives the lease up in a rebalance stops after its current update, without committing
 *       it, and closes its scored consumer before its successor is assigned the lease;</li>
 *   <li>the transactional.id shared by the policy's learners ({@link PolicyPublisher}): a new leader's
 *       {@code initTransactions} fences every earlier one, before it reads what was published and loads its
 *       checkpoint, so a zombie can publish no version record and no chunk afterwards;</li>
 *   <li>the leader epoch (the offset of this leader's {@link Takeover} record, written through the fenced producer):
 *       every checkpoint is stamped with it; a save finding a higher epoch on disk refuses (this learner is the
 *       zombie), a same-numbered version of a lower epoch is set aside (a zombie wrote it after the takeover), a
 *       version the zombie wrote before learning it was fenced is skipped by the next leader's load, and a zombie
 *       whose publication was fenced takes its own version back.</li>
 * </ul>
 * A fenced learner logs why and returns from {@link #run()} ({@link #fenced()}); a supervisor restarts it as a
 * standby.
 *
 * <p>No shared directory ({@code learner.state.topic.enabled}, docs/learner.md "Without a shared directory"): each
 * publication also carries the checkpoint's complete state ({@link LearnerCheckpointStore#toBytes}) in its transaction,
 * and a new leader whose own directory is behind the newest published version installs that version's state first.
 */
public final class LearnerService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LearnerService.class);
    /** How long fetching a {@code kafka:} starting policy may take (the record lookup, then the chunks). */
    private static final Duration INIT_FETCH_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration POLL = Duration.ofMillis(500);
    /** Longest wait before reading a record again after a schema-registry outage. */
    private static final long MAX_OUTAGE_BACKOFF_MS = 5_000;

    private final LearnerConfig config;
    private final Topics topics;
    private final Map<String, Object> clientProperties;
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final LearnerCheckpointStore store;
    /** The local directory of the starting policy and KL reference (fetched first when configured as kafka:). */
    private final Path initCheckpoint;
    private final PolicyModel reference;
    /** The reference's weights id: scored records' reference log-probs are used only when computed with it. */
    private final String referenceId;
    private final PolicyModel policy;
    /** The separate critic ({@code ppo.critic=separate}), or null when the policy's value head is the critic. */
    private final ValueModel critic;
    private final PpoUpdate ppo;
    /** Entries of the updates since the newest checkpoint: the next checkpoint's ledger segment. */
    private final List<LedgerEntry> uncommitted = new ArrayList<>();
    /** Dead letters of the records read since the newest checkpoint, sent with the checkpoint that covers them. */
    private final List<PendingDeadLetter> deadLetters = new ArrayList<>();
    /** The newest checkpoint's ledger segments (the writer thread's once running). */
    private volatile List<LedgerSegment> ledgerSegments = List.of();
    /** Ids of consumed records that may be read again (at or after the checkpoint offsets). */
    private DedupWindow consumed = new DedupWindow();
    /** The newest checkpoint, loaded or saved by this process (null before the first). */
    private volatile LearnerCheckpoint newestCheckpoint;
    /** Writes and publishes checkpoints behind the training thread, one at a time, in order. */
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "learner-checkpoint-writer");
        t.setDaemon(true);
        return t;
    });
    /** The checkpoint being written (its offsets when done), or null. */
    private Future<Map<String, Long>> pendingWrite;
    private final Map<String, Long> startOffsets = new HashMap<>();
    /** The election, while {@link #run()} runs. */
    private volatile LearnerLease lease;
    /** This leader's epoch once it took over; checkpoints are stamped with it. */
    private volatile long epoch = LearnerCheckpointStore.NO_EPOCH;
    /** Set when a newer leader fenced this one: it publishes and writes nothing more. */
    private volatile boolean fenced;
    /** The restore from Kafka on taking over, or null. */
    private volatile PublishedState.Restore stateRestore;
    /** Counted down once the active period is over (training stopped, scored consumer closed). */
    private final CountDownLatch released = new CountDownLatch(1);
    /** Test hook: runs on the training thread before each commit (a test blocks it to simulate a pause). */
    private volatile Runnable beforeCommit = () -> { };
    private volatile Runnable beforeUpdate = () -> { };
    private volatile Runnable beforePublish = () -> { };
    private final ScoredBatcher batcher;
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private final MeterRegistry meterRegistry;
    private final LearnerMeters meters;
    private long version;
    private KafkaClientMetrics kafkaMetrics;
    private int sinceCheckpoint;
    private Map<String, Double> lastMetrics = Map.of();
    /** When the previous update (and its commit, if any) returned (System.nanoTime); 0 before the first one. */
    private long lastCycleEnd;
    /** Seconds the previous commit held the training thread; NaN before the first and once reported. */
    private double lastCommitSeconds = Double.NaN;

    /**
     * Loads the newest checkpoint (or the initial policy) and the reference; connects nothing yet.
     *
     * @param clientProperties Kafka client and serde settings (bootstrap, security, registry)
     */
    public LearnerService(LearnerConfig config, Topics topics, Map<String, Object> clientProperties) {
        this(config, topics, clientProperties, Metrics.globalRegistry);
    }

    /**
     * The same, with the learner's meters ({@link LearnerMeters}: losses, staleness, versions, checkpoint writes,
     * and the scored consumer's Kafka metrics) going to {@code meters}.
     */
    public LearnerService(LearnerConfig config, Topics topics, Map<String, Object> clientProperties,
                          MeterRegistry meters) {
        this.meterRegistry = meters;
        this.meters = new LearnerMeters(meters, config.policyName(), this::active);
        this.config = config;
        this.topics = topics;
        this.clientProperties = clientProperties;
        ModelRuntime.init(config.threads());
        this.store = new LearnerCheckpointStore(config.checkpointDir());
        this.initCheckpoint = InitCheckpoints.resolve(config.getString(LearnerConfig.INIT_CHECKPOINT),
                config.checkpointDir(), topics, clientProperties, INIT_FETCH_TIMEOUT);
        Checkpoint init = PolicyLoader.initialCheckpoint(initCheckpoint, 0);
        this.reference = PolicyLoader.fromCheckpoint(init);
        this.referenceId = init.weightsId();
        reference.freeze(true);
        LOG.info("KL reference {} ({}): scored records carrying its log-probs (the reward stream's "
                + "scoring.reference.checkpoint) spare the reference forward", initCheckpoint, referenceId);
        Optional<LearnerCheckpoint> newest = store.loadNewest();
        this.policy = PolicyLoader.fromCheckpoint(newest.map(LearnerCheckpoint::policy).orElse(init));
        PpoConfig ppoConfig = config.ppo();
        PtxSource ptx;
        try {
            ptx = ptxSource(config, policy);
        } catch (RuntimeException e) {
            policy.close();
            reference.close();
            throw e;
        }
        this.critic = ppoConfig.critic() == PpoConfig.Critic.SEPARATE ? loadCritic(newest.orElse(null)) : null;
        if (critic == null && newest.isPresent() && newest.get().critic() != null) {
            LOG.warn("checkpoint version {} holds a separate critic, not used: {} is shared (the policy's value head "
                    + "is the critic)", newest.get().version(), PpoConfig.CRITIC);
        }
        this.ppo = new PpoUpdate(ppoConfig, policy, reference, ptx, critic);
        if (newest.isPresent()) {
            restore(newest.get());
        } else {
            version = Long.parseLong(init.metadata().getOrDefault("version", "0"));
            LOG.info("no learner checkpoint in {}; starting from {} as version {}", store.root(), initCheckpoint,
                    version);
        }
        boolean groups = ppoConfig.estimator() != PpoConfig.Estimator.GAE;
        this.batcher = new ScoredBatcher(config.batchSequences(), config.batchTokens(), groups,
                config.groupTimeoutMs(), System::currentTimeMillis);
    }

    /** Takes a checkpoint's optimiser, scaler, version, ledger and offsets (its weights are loaded already). */
    private void restore(LearnerCheckpoint c) {
        ppo.restore(new PpoUpdate.State(c.updates(), c.optimizerSteps(), c.scoreMoments(),
                c.policy().optimizerState(), c.critic() == null ? null : c.critic().optimizerState()));
        version = c.version();
        newestCheckpoint = c;
        ledgerSegments = c.ledger();
        // Only entries at or after the checkpoint offsets can be read again; the window ignores the rest.
        consumed = DedupWindow.atOffsets(c.offsets());
        store.forEachLedgerEntry(c, consumed::add);
        startOffsets.clear();
        startOffsets.putAll(c.offsets());
        lastMetrics = c.metrics();
        LOG.info("resumed from checkpoint version {} ({} updates, {} ledger entries in {} segments, {} ids to "
                        + "de-duplicate, offsets {})", version, c.updates(), c.ledgerEntries(), c.ledger().size(),
                consumed.size(), c.offsets());
    }

    /**
     * On taking over: loads the newest checkpoint that no takeover fenced, as a restart does, unless it is the one
     * loaded at construction (a standby may have been constructed long before). With {@code
     * learner.state.topic.enabled}, the state published with the newest version replaces it when that version is newer
     * ({@link PublishedState}).
     */
    private void resumeNewest(Optional<Takeover> previous, PolicyPublisher publisher) {
        // This learner leads now: a save another learner has in progress here is a fenced zombie's.
        store.removeLeftovers();
        Optional<LearnerCheckpoint> newest = previous
                .map(t -> store.loadNewest(t.epoch(), t.baseVersion()))
                .orElseGet(store::loadNewest);
        if (config.stateTopic()) {
            Optional<PublishedState.Restore> published = new PublishedState(topics, clientProperties, store,
                    config.policyName()).restoreNewer(publisher, newest.map(LearnerCheckpoint::version).orElse(-1L));
            if (published.isPresent()) {
                stateRestore = published.get();
                newest = Optional.of(published.get().checkpoint());
            }
        }
        LearnerCheckpoint loaded = newestCheckpoint;
        if (newest.isEmpty()) {
            if (loaded != null) {
                throw new IllegalStateException("checkpoint version " + loaded.version() + " was loaded at start but "
                        + "no usable checkpoint is left in " + store.root() + "; restart the learner");
            }
            return;
        }
        LearnerCheckpoint c = newest.get();
        if (loaded != null && loaded.version() == c.version()
                && loaded.policy().weightsId().equals(c.policy().weightsId())) {
            return;
        }
        policy.loadWeights(c.policy());
        if (critic != null && c.critic() != null) {
            ModelWeights.copyInto(critic.block(), c.critic().weights());
        } else if (critic != null) {
            LOG.warn("checkpoint version {} holds no critic: the separate critic keeps its current weights",
                    c.version());
        }
        restore(c);
    }

    /** The restore from Kafka this learner did on taking over, or null (tests read it). */
    PublishedState.Restore stateRestore() {
        return stateRestore;
    }

    /**
     * The PPO-ptx data, or null when {@code ppo.ptx.coef} is 0: {@code learner.ptx.data} encoded with the Hugging Face
     * policy's tokenizer (the files its checkpoint carries), or the synthetic world's corpus for the synthetic policy.
     * Each corpus is refused for the other kind of policy, whose ids it does not speak.
     */
    static PtxSource ptxSource(LearnerConfig config, PolicyModel policy) {
        PpoConfig ppoConfig = config.ppo();
        if (ppoConfig.ptxCoef() <= 0) {
            return null;
        }
        Optional<Path> data = config.ptxData();
        if (data.isEmpty()) {
            if (policy instanceof HfPolicy) {
                throw new ConfigException(PpoConfig.PTX_COEF + " is " + ppoConfig.ptxCoef() + " but "
                        + LearnerConfig.PTX_DATA + " is empty: a Hugging Face policy needs a JSONL corpus for PPO-ptx "
                        + "(the built-in corpus speaks the synthetic world's vocabulary)");
            }
            return new SyntheticCorpusPtx(SyntheticWorld.standard(), config.ptxCorpusSize(), ppoConfig.seed());
        }
        if (!(policy instanceof HfPolicy hf)) {
            throw new ConfigException(LearnerConfig.PTX_DATA + " is " + data.get() + " but the policy is a '"
                    + policy.architecture() + "' one, which has no Hugging Face tokenizer to encode it with; leave "
                    + LearnerConfig.PTX_DATA + " empty to use the synthetic world's corpus");
        }
        try (HfTokenizer tokenizer = HfTokenizer.fromFiles(hf.files())) {
            JsonlPtx ptx = JsonlPtx.load(data.get(), tokenizer, policy.config().contextLength(), ppoConfig.seed());
            LOG.info("PPO-ptx corpus: {}", ptx.corpus().summary());
            if (!ptx.corpus().skippedLines().isEmpty()) {
                LOG.warn("PPO-ptx: {} examples of {} skipped, their prompt filling the context of {} tokens",
                        ptx.corpus().skippedLines().size(), data.get(), ptx.corpus().context());
            }
            return ptx;
        }
    }

    /**
     * The separate critic: the newest checkpoint's when it holds one, else a new one initialised from the reward
     * model at {@code learner.critic.init}; either is refused if it does not share the policy's tokenization.
     */
    private ValueModel loadCritic(LearnerCheckpoint newest) {
        if (newest != null && newest.critic() != null) {
            LOG.info("separate critic restored from checkpoint version {}", newest.version());
            return CriticLoader.fromCheckpoint(newest.critic(), policy);
        }
        if (newest != null) {
            LOG.warn("checkpoint version {} holds no critic (written with {}=shared): a new critic starts from {}",
                    newest.version(), PpoConfig.CRITIC, config.criticInit());
        }
        ValueModel fresh = CriticLoader.fromRewardModel(config.criticInit(), policy);
        LOG.info("separate critic initialised from the reward model {} ({} {})", config.criticInit(),
                fresh.architecture(), fresh.config());
        return fresh;
    }

    /** The weights id of the KL reference (the starting policy). */
    public String referenceId() {
        return referenceId;
    }

    /** The local directory the starting policy was loaded from (a fetched copy when configured as kafka:). */
    public Path initCheckpoint() {
        return initCheckpoint;
    }

    /** The policy version the weights currently are. */
    public long version() {
        return version;
    }

    /** The separate critic, or null when the policy's value head is the critic (tests read it). */
    ValueModel critic() {
        return critic;
    }

    /** Completed updates (committed or not). */
    public long updates() {
        return ppo.updates();
    }

    /** Whether a newer leader fenced this learner (it then published nothing more and returned from {@link #run()}). */
    public boolean fenced() {
        return fenced;
    }

    /** Whether this learner holds the lease now. */
    public boolean active() {
        LearnerLease l = lease;
        return l != null && l.held() && !fenced;
    }

    /** This leader's epoch ({@link LearnerCheckpointStore#NO_EPOCH} before it took over). */
    public long epoch() {
        return epoch;
    }

    /** Test hook: runs on the training thread right before each commit. */
    void beforeCommit(Runnable hook) {
        this.beforeCommit = hook;
    }

    /**
     * Test hook: runs on the checkpoint writer's thread after a checkpoint is saved and before it is published; one
     * that throws is a learner dying between the two.
     */
    void beforePublish(Runnable hook) {
        this.beforePublish = hook;
    }

    /**
     * Test hook: runs on the training thread right before each update. Two learners in one JVM (a test's leader and
     * standby) must not train at once: DJL allows one gradient collector per JVM, where processes each have their own.
     */
    void beforeUpdate(Runnable hook) {
        this.beforeUpdate = hook;
    }

    /** Test hook: the election, while running. */
    LearnerLease lease() {
        return lease;
    }

    /** Asks {@link #run()} to return after the current update (safe from any thread). */
    public void stop() {
        stopped.set(true);
        wakeConsumer();
    }

    /**
     * Stands by until this learner holds the lease, then consumes and trains until {@link #stop()},
     * {@code learner.max.updates}, the loss of the lease or fencing by a newer leader.
     */
    public void run() {
        try (LearnerLease l = new LearnerLease(topics.learnerLease().name(), config.leaseGroupId(),
                config.leaseSessionTimeoutMs(), clientProperties, this::leaseRevoked, this::wakeConsumer)) {
            lease = l;
            LOG.info("standing by for the lease of policy {} (group {}, session timeout {} ms)", config.policyName(),
                    config.leaseGroupId(), config.leaseSessionTimeoutMs());
            if (!l.awaitHeld(stopped::get)) {
                LOG.info("stopped while standing by");
                return;
            }
            try {
                lead(l);
            } catch (PolicyPublisher.PublisherFencedException | CheckpointFencedException e) {
                fenced = true;
                LOG.error("this learner was fenced by a newer leader and stops without publishing: {}",
                        e.getMessage());
            } catch (WakeupException e) {
                // stopped, or the lease lost, while taking over (a blocking call outside the poll loop was woken)
                LOG.info("taking over interrupted: {}", stopped.get() ? "stopped" : "the lease is gone");
            } finally {
                released.countDown();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lease = null;
        }
    }

    /**
     * Adds the learner's checks: live unless fenced by a newer leader; ready when it leads (holds the lease: a
     * standby is live but not ready), its scored consumer is connected to a broker, and its policy is loaded.
     */
    public HealthChecks health(HealthChecks health) {
        return health
                .live("not fenced", () -> !fenced)
                .ready("connected", () -> {
                    KafkaConsumer<byte[], byte[]> c = consumer;
                    return c != null && BrokerConnection.isUp(c.metrics());
                })
                .ready("assigned", this::active)
                .ready("model loaded", () -> policy != null);
    }

    /** The lease is being revoked in a rebalance: stop training and wait (bounded) until the scored consumer is closed. */
    private void leaseRevoked() {
        wakeConsumer();
        try {
            if (!released.await(config.leaseSessionTimeoutMs(), TimeUnit.MILLISECONDS)) {
                LOG.warn("training did not stop within {} ms of the lease's revocation; fencing covers the rest",
                        config.leaseSessionTimeoutMs());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void wakeConsumer() {
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    /** The active period: fence, resume, claim the epoch, consume and train. */
    private void lead(LearnerLease l) {
        TopicSpec<String, ScoredGeneration> scored = topics.scored();
        // Fencing first: from here no earlier leader can publish, so what is published and on disk stays put.
        try (PolicyPublisher publisher = new PolicyPublisher(topics, clientProperties, config.policyName(),
                config.transactionalId(topics.prefix()), config.deltaFullEvery());
             MetricsReporter metrics = new MetricsReporter(topics, clientProperties);
             KafkaConsumer<byte[], byte[]> kafka = new KafkaConsumer<>(consumerProperties(clientProperties, config.groupId()),
                     new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            this.consumer = kafka;
            kafkaMetrics = new KafkaClientMetrics(kafka);
            kafkaMetrics.bindTo(meterRegistry);
            Optional<Takeover> previous = Takeover.newest(topics.learnerLease(), clientProperties, config.policyName());
            resumeNewest(previous, publisher);
            epoch = publisher.claim(topics.learnerLease(), Takeover.value(version, l.member()));
            meters.published(publisher.lastPublished());
            LOG.info("took over policy {} as leader epoch {} from version {} (previous takeover: {})",
                    config.policyName(), epoch, version, previous.map(Takeover::toString).orElse("none"));
            if (newestCheckpoint != null && publisher.lastPublished() < version) {
                // The previous run saved this checkpoint but died before publishing it: publish it now, with the dead
                // letters it covers (saved with it), which that run never sent.
                publish(publisher, newestCheckpoint, store.deadLetters(newestCheckpoint.version()));
            }
            // Assigned, not subscribed: the lease decides who reads scored, and a successor must not wait in a scored
            // group rebalance for a dead or paused leader's member. The group id stays, for the lag offsets.
            String scoredName = config.scoredTopic().orElse(scored.name());
            List<TopicPartition> partitions = Optional.ofNullable(kafka.partitionsFor(scoredName,
                            Duration.ofSeconds(30))).orElse(List.of()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            if (partitions.isEmpty()) {
                throw new IllegalStateException("topic " + scoredName + " does not exist (rlhf topics create, or "
                        + "check " + LearnerConfig.SCORED_TOPIC + ")");
            }
            kafka.assign(partitions);
            seek(kafka, partitions);
            try {
                consume(scored, publisher, metrics, kafka);
                commitGroupOffsets(kafka, awaitWrite());
            } finally {
                if (pendingWrite != null) {
                    // Failing: let the checkpoint being written finish (it is complete and consistent) while the
                    // publisher is still open, without hiding the failure that got us here.
                    try {
                        awaitWrite();
                    } catch (RuntimeException e) {
                        LOG.warn("{}", e.getMessage());
                    }
                }
            }
            LOG.info("learner stopping at version {} after {} updates ({} uncommitted){}", version, ppo.updates(),
                    sinceCheckpoint, l.held() ? "" : ": the lease is gone");
        } finally {
            consumer = null;
            if (kafkaMetrics != null) {
                kafkaMetrics.close();
                kafkaMetrics = null;
            }
        }
    }

    private void consume(TopicSpec<String, ScoredGeneration> scored, PolicyPublisher publisher, MetricsReporter metrics,
                         KafkaConsumer<byte[], byte[]> kafka) {
        long outageBackoffMs = 0;
        while (!stopped.get() && !maxUpdatesReached() && active()) {
            Iterable<ConsumerRecord<byte[], byte[]>> records;
            try {
                records = kafka.poll(POLL);
            } catch (WakeupException e) {
                break;
            }
            Set<TopicPartition> readAgain = new HashSet<>();
            for (ConsumerRecord<byte[], byte[]> r : records) {
                TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                if (!readAgain.contains(tp) && !accept(r, scored)) {
                    // The registry is down: this record and the rest of its partition are read again later.
                    kafka.seek(tp, r.offset());
                    readAgain.add(tp);
                }
            }
            if (!readAgain.isEmpty()) {
                outageBackoffMs = Math.min(Math.max(100, outageBackoffMs * 2), MAX_OUTAGE_BACKOFF_MS);
                try {
                    Thread.sleep(outageBackoffMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            } else {
                outageBackoffMs = 0;
            }
            Optional<List<ScoredBatcher.Positioned>> batch;
            while (!stopped.get() && !maxUpdatesReached() && active()
                    && (batch = batcher.nextBatch()).isPresent()) {
                train(batch.get(), metrics);
                if (++sinceCheckpoint >= config.publishEvery()) {
                    beforeCommit.run();
                    if (!active()) {
                        // Another learner may already train from the newest checkpoint: these updates are its to redo.
                        LOG.warn("not committing the {} update(s) since version {}: this learner no longer holds the "
                                + "lease", sinceCheckpoint, version);
                        break;
                    }
                    commit(publisher, kafka);
                }
                lastCycleEnd = System.nanoTime();
            }
        }
    }

    private boolean maxUpdatesReached() {
        return config.maxUpdates() > 0 && ppo.updates() >= config.maxUpdates();
    }

    /**
     * Reads one scored record into the batcher, or into the dead letters of the next commit.
     *
     * @return false when the schema registry is down: the record was not read and must be read again
     */
    private boolean accept(ConsumerRecord<byte[], byte[]> r, TopicSpec<String, ScoredGeneration> scored) {
        String partition = new TopicPartition(r.topic(), r.partition()).toString();
        RolloutSample sample;
        try {
            if (r.value() == null) {
                throw new IllegalArgumentException("record " + partition + "@" + r.offset() + " has no value");
            }
            // Token ids are checked against the vocabulary here, before a model ever indexes its embedding with them.
            sample = RolloutSample.fromScored(scored.valueDeserializer().deserialize(r.topic(), r.headers(), r.value()),
                    referenceId, policy.config().vocabSize());
        } catch (RuntimeException e) {
            if (AvroSerdeException.isRegistryOutage(e)) {
                LOG.warn("schema registry unavailable while reading scored record {}@{}; reading it again later: {}",
                        partition, r.offset(), e.getMessage());
                return false;
            }
            // A record we cannot read or train on goes to the DLQ with headers naming where it came from, never
            // dropped silently; it is sent in the transaction that publishes the checkpoint covering its offset.
            LOG.warn("scored record {}@{} cannot be trained on ({}); dead-lettered with the next commit", partition,
                    r.offset(), e.getMessage());
            deadLetters.add(new PendingDeadLetter(partition, r.offset(),
                    DlqHeaders.deadLetter(topics.dlq(scored).name(), r, e, MetricsReporter.COMPONENT)));
            meters.deadLettered(r.topic(), e);
            batcher.skip(partition, r.offset());
            return true;
        }
        if (consumed.contains(sample.generationId())) {
            batcher.skip(partition, r.offset());  // trained by a committed update before a restart
        } else {
            batcher.add(sample, partition, r.offset());
        }
        return true;
    }

    /** A dead letter waiting for the checkpoint whose offsets cover its record. */
    private record PendingDeadLetter(String partition, long offset, ProducerRecord<byte[], byte[]> record) {
    }

    /**
     * Takes the dead letters of records below the checkpoint {@code offsets}: those are committed with it. The others
     * belong to records a restart from this checkpoint reads again, so they wait for a later checkpoint.
     */
    private List<ProducerRecord<byte[], byte[]>> takeDeadLetters(Map<String, Long> offsets) {
        List<ProducerRecord<byte[], byte[]>> covered = new ArrayList<>();
        for (var it = deadLetters.iterator(); it.hasNext(); ) {
            PendingDeadLetter d = it.next();
            Long upTo = offsets.get(d.partition());
            if (upTo != null && d.offset() < upTo) {
                covered.add(d.record());
                it.remove();
            }
        }
        return covered;
    }

    private void train(List<ScoredBatcher.Positioned> batch, MetricsReporter metrics) {
        beforeUpdate.run();
        List<RolloutSample> samples = batch.stream().map(ScoredBatcher.Positioned::sample).toList();
        long update = ppo.updates() + 1;
        LOG.info("update {} start: {} samples at version {}", update, samples.size(), version);
        long start = System.nanoTime();
        PpoStats stats = ppo.update(samples, version);
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, ScoredBatcher.Positioned> where = new HashMap<>();
        batch.forEach(p -> where.put(p.sample().generationId(), p));
        record(stats.trainedIds(), update, LedgerEntry.Outcome.TRAINED, where);
        record(stats.droppedStale(), update, LedgerEntry.Outcome.DROPPED_STALE, where);
        record(stats.droppedTooLong(), update, LedgerEntry.Outcome.DROPPED_TOO_LONG, where);
        Map<String, Double> reported = new LinkedHashMap<>(stats.metrics());
        reported.put("data/groups_released_incomplete", (double) batcher.releasedIncomplete());
        reported.put("time/update_s", seconds);
        if (lastCycleEnd != 0) {
            // From the end of the previous update (and its commit) to this one's start: polling, reading and batching
            // records, and waiting for them. Near zero when the learner is the bottleneck; most of a cycle when the
            // stages before it cannot keep up (or, in a lockstep loop, by design).
            reported.put("time/wait_s", (start - lastCycleEnd) / 1e9);
        }
        if (!Double.isNaN(lastCommitSeconds)) {
            reported.put("time/commit_s", lastCommitSeconds);
            lastCommitSeconds = Double.NaN;  // once per commit, when publish.every puts several updates between them
        }
        lastMetrics = reported;
        samples.forEach(sample -> meters.trained(sample.policyVersion(), version));
        meters.updated(reported);
        metrics.report(update, version, reported);
    }

    private void record(List<String> ids, long update, LedgerEntry.Outcome outcome,
                        Map<String, ScoredBatcher.Positioned> where) {
        for (String id : ids) {
            ScoredBatcher.Positioned p = where.get(id);
            if (p == null) {
                throw new IllegalStateException("update " + update + " reports generation " + id + " as " + outcome
                        + " but it was not in the batch");
            }
            LedgerEntry e = new LedgerEntry(id, update, outcome, p.partition(), p.offset());
            uncommitted.add(e);
            consumed.add(e);
        }
    }

    /**
     * Ends the updates since the last checkpoint as version {@code version + 1}. The state that lives in tensors (weights,
     * optimiser moments) is copied out here, on the training thread; writing the checkpoint (ledger segment, files,
     * sha256 manifest, rename), publishing it and pruning old ones run on the writer thread while the next update
     * trains, one checkpoint at a time and in order. The next commit first waits for the previous write and rethrows
     * its failure. A crash with a write in flight leaves the previous checkpoint as the newest complete one, so the
     * updates after it are redone from the same records, as after any crash.
     */
    private void commit(PolicyPublisher publisher, KafkaConsumer<byte[], byte[]> kafka) {
        long start = System.nanoTime();
        long parent = version;
        long next = version + 1;
        PpoUpdate.State state = ppo.state();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("source", "ppo");
        meta.put("version", Long.toString(next));
        meta.put("parent_version", Long.toString(parent));
        meta.put("policy_name", config.policyName());
        meta.put("updates", Long.toString(state.updates()));
        Checkpoint weights = policy.toCheckpoint(meta, state.optimizer());
        Checkpoint criticWeights = critic == null ? null : critic.toCheckpoint(meta, state.criticOptimizer());
        Map<String, Long> offsets = batcher.checkpointOffsets();
        List<ProducerRecord<byte[], byte[]>> letters = takeDeadLetters(offsets);
        List<LedgerEntry> entries = List.copyOf(uncommitted);
        Map<String, Double> metrics = lastMetrics;
        uncommitted.clear();
        int forgotten = consumed.advance(offsets);
        version = next;
        sinceCheckpoint = 0;
        startOffsets.clear();
        startOffsets.putAll(offsets);
        long copiedAt = System.nanoTime();
        Map<String, Long> written = awaitWrite();
        commitGroupOffsets(kafka, written);
        int deduplicating = consumed.size();
        lastCommitSeconds = (System.nanoTime() - start) / 1e9;
        long leaderEpoch = epoch;
        pendingWrite = writer.submit(() -> fencedIfTakenOver(next, leaderEpoch, () -> {
            long writeStart = System.nanoTime();
            // The segment goes first: a crash before the checkpoint's rename leaves only an unlisted segment.
            List<LedgerSegment> segments = store.appendLedger(ledgerSegments, entries);
            LearnerCheckpoint saved = new LearnerCheckpoint(next, parent, state.updates(), state.optimizerSteps(),
                    state.scoreMoments(), weights, offsets, segments, metrics, criticWeights);
            try {
                store.save(saved, leaderEpoch, letters);
                meters.checkpointWritten(System.nanoTime() - writeStart);
            } catch (CheckpointFencedException e) {
                fenced = true;
                wakeConsumer();
                throw e;
            }
            newestCheckpoint = saved;
            ledgerSegments = segments;
            LOG.info("committed version {}: {} updates, {} ledger entries (+{}) in {} segments, {} ids to de-duplicate "
                            + "({} forgotten), offsets {}; state copied in {} ms, written in {} ms", next,
                    state.updates(), saved.ledgerEntries(), entries.size(), segments.size(), deduplicating, forgotten,
                    offsets, (copiedAt - start) / 1_000_000, (System.nanoTime() - writeStart) / 1_000_000);
            beforePublish.run();
            try {
                publish(publisher, saved, letters);
            } catch (PolicyPublisher.PublisherFencedException e) {
                fenced = true;
                wakeConsumer();
                // Not published, and never to be: take the version back so that no reader takes it for the newest.
                store.discard(next, leaderEpoch);
                throw e;
            }
            store.prune(config.checkpointsKept());
            return offsets;
        }));
    }

    /**
     * Runs a checkpoint's write and publication; when it fails while a newer leader has taken over, this learner was
     * fenced, whatever the failure said: a fenced producer's error depends on where its transaction stood when the new
     * leader claimed the transactional id (an invalid epoch, an aborted or abortable transaction), and a new leader on
     * the same directory removes the temporary files of a save it takes for interrupted. The takeover record says who
     * leads.
     */
    private <T> T fencedIfTakenOver(long version, long leaderEpoch, Supplier<T> write) {
        try {
            return write.get();
        } catch (PolicyPublisher.PublisherFencedException | CheckpointFencedException e) {
            throw e;
        } catch (RuntimeException e) {
            Optional<Takeover> newer = newerTakeover(leaderEpoch);
            if (newer.isEmpty()) {
                throw e;
            }
            fenced = true;
            wakeConsumer();
            // Not published, and never to be: take the version back so that no reader takes it for the newest.
            store.discard(version, leaderEpoch);
            throw new CheckpointFencedException("could not write or publish " + config.policyName() + " version "
                    + version + " (" + e.getMessage() + "): leader epoch " + newer.get().epoch() + " took over after "
                    + "this learner's epoch " + leaderEpoch);
        }
    }

    /** The newest takeover of this policy when it is newer than {@code leaderEpoch}; empty when unreadable. */
    private Optional<Takeover> newerTakeover(long leaderEpoch) {
        if (leaderEpoch == LearnerCheckpointStore.NO_EPOCH) {
            return Optional.empty();
        }
        try {
            return Takeover.newest(topics.learnerLease(), clientProperties, config.policyName())
                    .filter(t -> t.epoch() > leaderEpoch);
        } catch (RuntimeException e) {
            LOG.warn("could not read the newest takeover of {}: {}", config.policyName(), e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * Waits for the checkpoint being written, if any.
     *
     * @return the offsets it recorded, or null when none was in flight
     * @throws IllegalStateException if writing or publishing it failed
     */
    private Map<String, Long> awaitWrite() {
        Future<Map<String, Long>> pending = pendingWrite;
        if (pending == null) {
            return null;
        }
        pendingWrite = null;
        try {
            return pending.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the checkpoint was being written", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof PolicyPublisher.PublisherFencedException f) {
                throw f;
            }
            if (e.getCause() instanceof CheckpointFencedException f) {
                throw f;
            }
            throw new IllegalStateException("writing or publishing checkpoint failed: " + e.getCause().getMessage(),
                    e.getCause());
        }
    }

    /** For monitoring only (lag dashboards): the checkpoint, not the group, is the source of truth. */
    private static void commitGroupOffsets(KafkaConsumer<byte[], byte[]> kafka, Map<String, Long> offsets) {
        if (offsets == null) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
        offsets.forEach((tp, offset) -> commit.put(parse(tp), new OffsetAndMetadata(offset)));
        try {
            kafka.commitAsync(commit, null);
        } catch (RuntimeException e) {
            LOG.debug("group offset commit failed: {}", e.getMessage());
        }
    }

    /** Publishes a checkpoint, with the dead letters it covers in the same transaction. */
    private void publish(PolicyPublisher publisher, LearnerCheckpoint c, List<ProducerRecord<byte[], byte[]>> letters) {
        long v = c.version();
        byte[] chunks = null;
        String uri = store.policyDir(v).toUri().toString();
        String sha256 = store.manifestSha256(v);
        long size = store.policySize(v);
        if (config.checkpointTopic()) {
            // Workers load weights only. The optimiser state stays in the learner's own checkpoint: Adam's is twice
            // the weights, and its first moment changes entirely every step, which would defeat delta versions.
            Checkpoint p = c.policy();
            chunks = CheckpointStore.toBytes(new Checkpoint(p.kind(), p.architecture(), p.config(), p.weights(), null,
                    p.metadata(), p.modelFiles()));
            uri = publisher.chunkUri(v);
            sha256 = CheckpointStore.sha256(CheckpointStore.manifestOf(chunks));
            size = chunks.length;
        }
        // The whole state, with the version in one transaction: a standby elsewhere resumes from exactly what was
        // published, and a fenced learner's state is aborted with its version record.
        byte[] state = config.stateTopic() ? store.toBytes(c) : null;
        if (publisher.publish(PolicyPublisher.record(config.policyName(), v, c.parentVersion(), c.updates(), uri,
                sha256, size, c.metrics()), chunks, state, letters)) {
            LOG.info("published {} version {} at {}{}", config.policyName(), v, uri,
                    state == null ? "" : " with its learner state (" + state.length + " bytes)");
            meters.published(v);
        }
    }

    /** The scored consumer's settings: the user's consumer keys, then what exactly-once and long updates need. */
    static Map<String, Object> consumerProperties(Map<String, Object> clientProperties, String groupId) {
        Map<String, Object> props = new HashMap<>(KafkaClients.only(clientProperties, ConsumerConfig.configNames()));
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // An update can take longer than the default 5 minutes on a slow CPU.
        props.putIfAbsent(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 30 * 60 * 1000);
        // The coordinator connection must outlive a poll interval, or a rebalance during a long update can lose it.
        // Kafka's own parser: a value that is not a number is a ConfigException naming the key.
        long pollIntervalMs = (Integer) ConfigDef.parseType(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG,
                props.get(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG), ConfigDef.Type.INT);
        props.putIfAbsent(ConsumerConfig.CONNECTIONS_MAX_IDLE_MS_CONFIG, Math.max(540_000L, pollIntervalMs + 60_000L));
        return props;
    }

    private static TopicPartition parse(String tp) {
        int dash = tp.lastIndexOf('-');
        return new TopicPartition(tp.substring(0, dash), Integer.parseInt(tp.substring(dash + 1)));
    }

    /** Seeks each assigned partition to the checkpoint's offset (or {@code learner.start}). */
    private void seek(KafkaConsumer<byte[], byte[]> kafka, Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) {
            Long offset = startOffsets.get(tp.toString());
            if (offset != null) {
                kafka.seek(tp, offset);
            } else {
                // No checkpoint knows this partition: start where learner.start says (default its beginning).
                offset = config.start().seek(kafka, tp);
            }
            batcher.start(tp.toString(), offset);
            LOG.info("reading {} from offset {}", tp, offset);
        }
    }

    @Override
    public void close() {
        writer.shutdownNow();
        policy.close();
        reference.close();
        if (critic != null) {
            critic.close();
        }
    }

    /** Where the checkpoints are. */
    public Path checkpointDir() {
        return store.root();
    }
}
