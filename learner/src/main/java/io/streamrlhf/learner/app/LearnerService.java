package io.streamrlhf.learner.app;

import io.streamrlhf.learner.KafkaClients;
import io.streamrlhf.learner.checkpoint.DedupWindow;
import io.streamrlhf.learner.checkpoint.LearnerCheckpoint;
import io.streamrlhf.learner.checkpoint.LearnerCheckpointStore;
import io.streamrlhf.learner.checkpoint.LedgerEntry;
import io.streamrlhf.learner.checkpoint.LedgerSegment;
import io.streamrlhf.learner.ppo.JsonlPtx;
import io.streamrlhf.learner.ppo.PpoConfig;
import io.streamrlhf.learner.ppo.PpoStats;
import io.streamrlhf.learner.ppo.PpoUpdate;
import io.streamrlhf.learner.ppo.PtxSource;
import io.streamrlhf.learner.ppo.RolloutSample;
import io.streamrlhf.learner.ppo.SyntheticCorpusPtx;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.critic.ValueModel;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import io.streamrlhf.models.load.CriticLoader;
import io.streamrlhf.models.load.PolicyLoader;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.topics.DlqHeaders;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
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
 */
public final class LearnerService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LearnerService.class);
    private static final Duration POLL = Duration.ofMillis(500);

    private final LearnerConfig config;
    private final Topics topics;
    private final Map<String, Object> clientProperties;
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final LearnerCheckpointStore store;
    private final PolicyModel reference;
    /** The reference's weights id: scored records' reference log-probs are used only when computed with it. */
    private final String referenceId;
    private final PolicyModel policy;
    /** The separate critic ({@code ppo.critic=separate}), or null when the policy's value head is the critic. */
    private final ValueModel critic;
    private final PpoUpdate ppo;
    /** Entries of the updates since the newest checkpoint: the next checkpoint's ledger segment. */
    private final List<LedgerEntry> uncommitted = new ArrayList<>();
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
    private final ScoredBatcher batcher;
    private KafkaConsumer<byte[], byte[]> consumer;
    private long version;
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
        this.config = config;
        this.topics = topics;
        this.clientProperties = clientProperties;
        ModelRuntime.init(config.threads());
        this.store = new LearnerCheckpointStore(config.checkpointDir());
        Checkpoint init = PolicyLoader.initialCheckpoint(config.initCheckpoint(), 0);
        this.reference = PolicyLoader.fromCheckpoint(init);
        this.referenceId = init.weightsId();
        reference.freeze(true);
        LOG.info("KL reference {} ({}): scored records carrying its log-probs (the reward stream's "
                + "scoring.reference.checkpoint) spare the reference forward", config.initCheckpoint(), referenceId);
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
            LearnerCheckpoint c = newest.get();
            ppo.restore(new PpoUpdate.State(c.updates(), c.optimizerSteps(), c.scoreMoments(),
                    c.policy().optimizerState(), c.critic() == null ? null : c.critic().optimizerState()));
            version = c.version();
            newestCheckpoint = c;
            ledgerSegments = c.ledger();
            // Only entries at or after the checkpoint offsets can be read again; the window ignores the rest.
            consumed = DedupWindow.atOffsets(c.offsets());
            store.forEachLedgerEntry(c, consumed::add);
            startOffsets.putAll(c.offsets());
            lastMetrics = c.metrics();
            LOG.info("resumed from checkpoint version {} ({} updates, {} ledger entries in {} segments, {} ids to "
                            + "de-duplicate, offsets {})", version, c.updates(), c.ledgerEntries(), c.ledger().size(),
                    consumed.size(), c.offsets());
        } else {
            version = Long.parseLong(init.metadata().getOrDefault("version", "0"));
            LOG.info("no learner checkpoint in {}; starting from {} as version {}", store.root(),
                    config.initCheckpoint(), version);
        }
        boolean groups = ppoConfig.estimator() != PpoConfig.Estimator.GAE;
        this.batcher = new ScoredBatcher(config.batchSequences(), config.batchTokens(), groups,
                config.groupTimeoutMs(), System::currentTimeMillis);
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

    /** Asks {@link #run()} to return after the current update (safe from any thread). */
    public void stop() {
        stopped.set(true);
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    /** Consumes and trains until {@link #stop()} or {@code learner.max.updates}. */
    public void run() {
        TopicSpec<String, ScoredGeneration> scored = topics.scored();
        try (PolicyPublisher publisher = new PolicyPublisher(topics, clientProperties, config.policyName());
             MetricsReporter metrics = new MetricsReporter(topics, clientProperties);
             KafkaProducer<byte[], byte[]> dlq = new KafkaProducer<>(PolicyPublisher.producerProperties(clientProperties),
                     new ByteArraySerializer(), new ByteArraySerializer());
             KafkaConsumer<byte[], byte[]> kafka = new KafkaConsumer<>(consumerProperties(clientProperties, config.groupId()),
                     new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            this.consumer = kafka;
            if (newestCheckpoint != null && publisher.lastPublished() < version) {
                // The previous run saved this checkpoint but died before publishing it.
                publish(publisher, newestCheckpoint);
            }
            kafka.subscribe(List.of(scored.name()), new Seeker());
            try {
                consume(scored, publisher, metrics, dlq, kafka);
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
            LOG.info("learner stopping at version {} after {} updates ({} uncommitted)", version, ppo.updates(),
                    sinceCheckpoint);
        } finally {
            consumer = null;
        }
    }

    private void consume(TopicSpec<String, ScoredGeneration> scored, PolicyPublisher publisher, MetricsReporter metrics,
                         KafkaProducer<byte[], byte[]> dlq, KafkaConsumer<byte[], byte[]> kafka) {
        while (!stopped.get() && !maxUpdatesReached()) {
            Iterable<ConsumerRecord<byte[], byte[]>> records;
            try {
                records = kafka.poll(POLL);
            } catch (WakeupException e) {
                break;
            }
            for (ConsumerRecord<byte[], byte[]> r : records) {
                accept(r, scored, dlq);
            }
            Optional<List<ScoredBatcher.Positioned>> batch;
            while (!stopped.get() && !maxUpdatesReached() && (batch = batcher.nextBatch()).isPresent()) {
                train(batch.get(), metrics);
                if (++sinceCheckpoint >= config.publishEvery()) {
                    commit(publisher, kafka);
                }
                lastCycleEnd = System.nanoTime();
            }
        }
    }

    private boolean maxUpdatesReached() {
        return config.maxUpdates() > 0 && ppo.updates() >= config.maxUpdates();
    }

    private void accept(ConsumerRecord<byte[], byte[]> r, TopicSpec<String, ScoredGeneration> scored,
                        KafkaProducer<byte[], byte[]> dlq) {
        String partition = new TopicPartition(r.topic(), r.partition()).toString();
        RolloutSample sample;
        try {
            sample = RolloutSample.fromScored(scored.valueDeserializer().deserialize(r.topic(), r.headers(), r.value()),
                    referenceId);
        } catch (RuntimeException e) {
            // A record we cannot read goes to the DLQ with headers naming where it came from; never dropped silently.
            LOG.warn("scored record {}@{} cannot be trained on ({}); sent to the DLQ", partition, r.offset(),
                    e.getMessage());
            dlq.send(new ProducerRecord<>(topics.dlq(scored).name(), null, r.key(), r.value(),
                    DlqHeaders.describe(r.topic(), r.partition(), r.offset(), e, MetricsReporter.COMPONENT,
                            Instant.now())));
            batcher.skip(partition, r.offset());
            return;
        }
        if (consumed.contains(sample.generationId())) {
            batcher.skip(partition, r.offset());  // trained by a committed update before a restart
        } else {
            batcher.add(sample, partition, r.offset());
        }
    }

    private void train(List<ScoredBatcher.Positioned> batch, MetricsReporter metrics) {
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
        pendingWrite = writer.submit(() -> {
            long writeStart = System.nanoTime();
            // The segment goes first: a crash before the checkpoint's rename leaves only an unlisted segment.
            List<LedgerSegment> segments = store.appendLedger(ledgerSegments, entries);
            LearnerCheckpoint saved = new LearnerCheckpoint(next, parent, state.updates(), state.optimizerSteps(),
                    state.scoreMoments(), weights, offsets, segments, metrics, criticWeights);
            store.save(saved);
            newestCheckpoint = saved;
            ledgerSegments = segments;
            LOG.info("committed version {}: {} updates, {} ledger entries (+{}) in {} segments, {} ids to de-duplicate "
                            + "({} forgotten), offsets {}; state copied in {} ms, written in {} ms", next,
                    state.updates(), saved.ledgerEntries(), entries.size(), segments.size(), deduplicating, forgotten,
                    offsets, (copiedAt - start) / 1_000_000, (System.nanoTime() - writeStart) / 1_000_000);
            publish(publisher, saved);
            store.prune(config.checkpointsKept());
            return offsets;
        });
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

    private void publish(PolicyPublisher publisher, LearnerCheckpoint c) {
        long v = c.version();
        byte[] chunks = config.checkpointTopic() ? CheckpointStore.toBytes(c.policy()) : null;
        String uri = config.checkpointTopic() ? publisher.chunkUri(v) : store.policyDir(v).toUri().toString();
        if (publisher.publish(PolicyPublisher.record(config.policyName(), v, c.parentVersion(), c.updates(), uri,
                store.manifestSha256(v), store.policySize(v), c.metrics()), chunks)) {
            LOG.info("published {} version {} at {}", config.policyName(), v, uri);
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

    /** Seeks each assigned partition to the checkpoint's offset (or keeps the group's/earliest position). */
    private final class Seeker implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            for (TopicPartition tp : partitions) {
                Long offset = startOffsets.get(tp.toString());
                if (offset != null) {
                    consumer.seek(tp, offset);
                } else {
                    // No checkpoint knows this partition: start at its beginning, or the retention's.
                    consumer.seekToBeginning(List.of(tp));
                    offset = consumer.position(tp);
                }
                batcher.start(tp.toString(), offset);
                LOG.info("reading {} from offset {}", tp, offset);
            }
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            // One active learner per group; a standby taking over starts from the shared checkpoint.
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
