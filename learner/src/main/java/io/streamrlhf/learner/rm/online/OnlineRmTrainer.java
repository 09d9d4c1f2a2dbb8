package io.streamrlhf.learner.rm.online;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.streamrlhf.learner.KafkaClients;
import io.streamrlhf.learner.rm.EncodedPair;
import io.streamrlhf.learner.rm.PairEncoder;
import io.streamrlhf.learner.rm.PairStrength;
import io.streamrlhf.learner.rm.PreferenceRelabeling;
import io.streamrlhf.learner.rm.PromptGroup;
import io.streamrlhf.learner.rm.RewardModelTrainer;
import io.streamrlhf.learner.rm.RmEnsemble;
import io.streamrlhf.learner.rm.RmMethod;
import io.streamrlhf.learner.rm.RmProgress;
import io.streamrlhf.learner.rm.RmTrainingConfig;
import io.streamrlhf.learner.rm.StrengthSummary;
import io.streamrlhf.learner.rm.TrainingPair;
import io.streamrlhf.learner.rm.eval.RmEvaluation;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.ops.BrokerConnection;
import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.schemas.AvroArrays;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.ModelRef;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.serde.AvroSerdeException;
import io.streamrlhf.schemas.topics.DeadLettersSent;
import io.streamrlhf.schemas.topics.DlqHeaders;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The online reward-model trainer: consumes {@code preferences} (read_committed), and whenever enough
 * new pairs arrived (or one waited long enough) runs a round: measure the pairs' strength with the
 * current ensemble, apply the method, fine-tune (or retrain) the M members on the newest pairs,
 * evaluate on held-out pairs, checkpoint weights with the offsets trained up to, publish one
 * {@link RewardModelVersion} per member (file: URI and manifest sha256, which the reward stream
 * verifies and hot-swaps), and write the new pairs back with their measured strength.
 *
 * <p>On start it loads the newest checkpoint and reads {@code preferences} from the beginning: records
 * before the checkpoint's offsets refill the training buffer, later ones are new. Each pair is thus in
 * exactly one round's "new" set across restarts (a round that crashed before its checkpoint is redone),
 * and publication is idempotent by version.
 *
 * <p>With {@code rm.state.topic.enabled} each version also carries the trainer's checkpoint (weights, offsets,
 * counters) in chunks on the checkpoints topic, indexed and signed in the last member's record
 * ({@link RmVersionPublisher#publish(RewardModelVersion, byte[], byte[])}); a trainer whose own directory is older
 * (a fresh machine: empty) installs the newest published state and resumes from its offsets, so its next version
 * follows the last published one and no pair is trained twice.
 */
public final class OnlineRmTrainer implements AutoCloseable {

    /** Header marking records this trainer wrote back (they are skipped when read). */
    public static final String ORIGIN_HEADER = "rlhf.origin";
    /** Value of {@link #ORIGIN_HEADER} on written-back records. */
    public static final String ORIGIN = "rm-trainer";

    private static final Logger LOG = LoggerFactory.getLogger(OnlineRmTrainer.class);
    /** The {@code dlq.component} of this trainer's dead letters. */
    private static final String COMPONENT = "rm-trainer";

    private final OnlineRmConfig config;
    private final Map<String, Object> clientProperties;
    private final Topics topics;
    private final RmCheckpointStore store;
    private final PairEncoder encoder = PairEncoder.of(SyntheticWorld.standard().vocabulary());
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final ArrayDeque<EncodedPair> train = new ArrayDeque<>();
    private final ArrayDeque<EncodedPair> heldOut = new ArrayDeque<>();
    private final List<PreferencePair> fresh = new ArrayList<>();
    private final List<EncodedPair> freshEncoded = new ArrayList<>();
    private final LinkedHashMap<String, List<Generation>> recentGenerations = new LinkedHashMap<>();
    private final Map<String, Long> next = new HashMap<>();
    private final RmProgress progress;
    private volatile KafkaConsumer<String, byte[]> consumer;
    /** Sends unreadable preferences records to {@code preferences.dlq}; made at the first one. */
    private KafkaProducer<byte[], byte[]> deadLetters;
    /** Source positions of the preferences records with a dead letter already (read from the DLQ at start). */
    private DeadLettersSent sentBefore = DeadLettersSent.none();
    private long deadLettered;
    private long outageBackoffMs;
    /** The version whose published state this trainer resumed from; −1 when none. */
    private long restoredFromTopic = -1;
    private KafkaConsumer<String, Generation> generations;
    private volatile RmEnsemble ensemble;
    /** Where the preferences consumer's Kafka metrics go; none until {@link #bindTo}. */
    private volatile MeterRegistry meters;
    private KafkaClientMetrics consumerMetrics;
    private Map<String, Long> trainedUpTo = Map.of();
    private long version;
    private long rounds;
    /** Written by the run thread only; volatile so {@link #pairsSeen()} reads it from others. */
    private volatile long pairsSeen;
    private long firstFreshAt;
    /** New pairs of the round that went to the training buffer (the rest are held out). */
    private int freshTrain;
    private Random replayDraws;

    /**
     * A trainer.
     *
     * @param settings {@code rm.*} keys, Kafka client keys, and the keys {@code Topics.create} reads
     * @param topics   the topic catalog
     * @param progress training progress (a progress bar from the CLI, {@link RmProgress#NONE} in services)
     */
    public OnlineRmTrainer(Map<String, Object> settings, Topics topics, RmProgress progress) {
        this.config = new OnlineRmConfig(settings);
        this.clientProperties = new HashMap<>(settings);
        this.topics = topics;
        this.store = new RmCheckpointStore(config.checkpointDir());
        this.progress = progress;
    }

    /** The checkpoint store. */
    public RmCheckpointStore store() {
        return store;
    }

    /** The version last checkpointed and published (0 before the first round). */
    public synchronized long version() {
        return version;
    }

    /**
     * Preferences counted in all, across restarts: the newest checkpoint's count once restored, plus the pairs read
     * since that lie beyond its offsets (each pair is counted once, however often the process restarts).
     */
    public long pairsSeen() {
        return pairsSeen;
    }

    /** Rounds run by this process. */
    public synchronized long rounds() {
        return rounds;
    }

    /** Name of member m on {@code rm.versions}. */
    public String memberName(int m) {
        return config.getString(OnlineRmConfig.NAME) + "-" + m;
    }

    /**
     * Exports the trainer's figures to {@code meters}: {@code rlhf.rm.version} (the version last published),
     * {@code rlhf.rm.rounds} and {@code rlhf.rm.pairs} (preference pairs seen), and the preferences consumer's Kafka
     * metrics once it runs.
     */
    public OnlineRmTrainer bindTo(MeterRegistry meters) {
        Gauge.builder("rlhf.rm.version", this, OnlineRmTrainer::version)
                .description("The reward-model version last checkpointed and published").register(meters);
        FunctionCounter.builder("rlhf.rm.rounds", this, OnlineRmTrainer::rounds)
                .description("Training rounds run by this process").register(meters);
        FunctionCounter.builder("rlhf.rm.pairs", this, t -> t.pairsSeen)
                .description("Preference pairs seen").register(meters);
        this.meters = meters;
        return this;
    }

    /**
     * Adds the trainer's checks: ready when its preferences consumer is connected to a broker and assigned the
     * partitions, and its reward models are loaded.
     */
    public HealthChecks health(HealthChecks health) {
        return health
                .ready("connected", () -> {
                    KafkaConsumer<String, byte[]> c = consumer;
                    return c != null && BrokerConnection.isUp(c.metrics());
                })
                .ready("assigned", () -> consumer != null)
                .ready("model loaded", () -> ensemble != null);
    }

    /** Asks {@link #run()} to return after the current round. Thread-safe. */
    public void stop() {
        running.set(false);
        KafkaConsumer<?, ?> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    /** Consumes, trains and publishes until {@link #stop()} or {@code rm.max.rounds}. */
    public void run() {
        ModelRuntime.init(config.getInt(OnlineRmConfig.THREADS));
        TopicSpec<String, PreferencePair> preferences = topics.preferences();
        try {
            sentBefore = DeadLettersSent.read(clientProperties, topics.dlq(preferences).name(), preferences.name(),
                    COMPONENT, Duration.ofSeconds(30));
        } catch (RuntimeException e) {
            LOG.warn("cannot read {} for the dead letters sent before ({}); a record past the checkpoint may be "
                    + "dead-lettered again", topics.dlq(preferences).name(), e.getMessage());
        }
        long maxRounds = config.getLong(OnlineRmConfig.MAX_ROUNDS);
        try (RmVersionPublisher publisher = new RmVersionPublisher(topics, clientProperties);
             KafkaProducer<String, PreferencePair> writeBack = writeBackProducer()) {
            restore(publisher);
            consumer = preferencesConsumer();
            MeterRegistry m = meters;
            if (m != null) {
                consumerMetrics = new KafkaClientMetrics(consumer);
                consumerMetrics.bindTo(m);
            }
            generations = config.getInt(OnlineRmConfig.META_GENERATIONS) > 0 && config.method().meta()
                    ? generationsConsumer() : null;
            while (running.get() && (maxRounds == 0 || rounds < maxRounds)) {
                try {
                    read(consumer.poll(Duration.ofMillis(200)));
                } catch (WakeupException e) {
                    if (running.get()) {
                        throw e;
                    }
                    break;
                }
                pollGenerations();
                if (due()) {
                    round(publisher, writeBack);
                }
            }
        } finally {
            if (consumerMetrics != null) {
                consumerMetrics.close();
                consumerMetrics = null;
            }
            closeConsumers();
        }
    }

    private void restore(RmVersionPublisher publisher) {
        var checkpoint = store.loadNewest();
        if (config.getBoolean(OnlineRmConfig.STATE_TOPIC)) {
            Optional<RmCheckpoint> published = new PublishedTrainerState(topics, clientProperties, store,
                    config.getString(OnlineRmConfig.NAME)).restoreNewer(publisher,
                    checkpoint.map(RmCheckpoint::version).orElse(-1L));
            if (published.isPresent()) {
                checkpoint = published;
                restoredFromTopic = published.get().version();
            }
        }
        RmTrainingConfig training = config.training();
        if (checkpoint.isPresent()) {
            RmCheckpoint c = checkpoint.get();
            if (c.members().size() != training.ensembleSize()) {
                LOG.warn("checkpoint version {} has {} members but {} = {}; continuing with the checkpoint's {}",
                        c.version(), c.members().size(), OnlineRmConfig.ENSEMBLE_SIZE, training.ensembleSize(),
                        c.members().size());
            }
            ensemble = RmEnsemble.fromCheckpoints(training.withEnsembleSize(c.members().size()), config.method(),
                    c.members());
            version = c.version();
            trainedUpTo = c.offsets();
            pairsSeen = c.pairsSeen();
            LOG.info("resuming reward models from checkpoint version {} (offsets {})", version, trainedUpTo);
        } else {
            ensemble = RmEnsemble.create(training, config.method());
            LOG.info("no reward-model checkpoint in {}; starting {} fresh members", store.root(), ensemble.size());
        }
    }

    /** The version whose published state this trainer resumed from, or −1 (tests read it). */
    public long restoredFromTopic() {
        return restoredFromTopic;
    }

    /**
     * Reads polled records in order. One that cannot be read or encoded goes to {@code preferences.dlq} with its
     * original bytes and {@code DlqHeaders} (once: only when it is past the checkpoint's offsets, which an earlier
     * run dead-lettered before), and training goes on. At a schema-registry outage the partition is sought back to
     * the record and read again after a back-off: nothing is dead-lettered because the registry is down.
     */
    private void read(Iterable<ConsumerRecord<String, byte[]>> records) {
        Set<TopicPartition> readAgain = new HashSet<>();
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        TopicSpec<String, PreferencePair> spec = topics.preferences();
        for (ConsumerRecord<String, byte[]> r : records) {
            TopicPartition partition = new TopicPartition(r.topic(), r.partition());
            if (readAgain.contains(partition)) {
                continue;
            }
            PreferencePair value;
            EncodedPair pair;
            try {
                value = spec.valueDeserializer().deserialize(r.topic(), r.headers(), r.value());
                pair = value == null || ownWriteBack(r) ? null : encoder.encode(value);
            } catch (RuntimeException e) {
                if (AvroSerdeException.isRegistryOutage(e)) {
                    LOG.warn("schema registry unavailable while reading {}@{}; reading it again later: {}", partition,
                            r.offset(), e.getMessage());
                    consumer.seek(partition, r.offset());
                    readAgain.add(partition);
                    continue;
                }
                String tp = r.topic() + "-" + r.partition();
                next.put(tp, r.offset() + 1);
                // Records before the checkpoint's offsets were dead-lettered by the run that wrote it; past them, a
                // run that died before its next checkpoint may have sent one already (the DLQ itself says).
                if (r.offset() >= trainedUpTo.getOrDefault(tp, 0L) && !sentBefore.contains(r.partition(), r.offset())) {
                    LOG.warn("preferences record {}@{} cannot be trained on ({}); sent to the DLQ", partition,
                            r.offset(), e.getMessage());
                    if (deadLetters == null) {
                        deadLetters = deadLetterProducer();
                    }
                    byte[] key = r.key() == null ? null : r.key().getBytes(StandardCharsets.UTF_8);
                    sent.add(deadLetters.send(DlqHeaders.deadLetter(topics.dlq(spec).name(),
                            new ConsumerRecord<>(r.topic(), r.partition(), r.offset(), key, r.value()), e,
                            COMPONENT)));
                    sentBefore.add(r.partition(), r.offset());
                    deadLettered++;
                }
                continue;
            }
            accept(r, value, pair);
        }
        awaitDeadLetters(sent);
        if (readAgain.isEmpty()) {
            outageBackoffMs = 0;
        } else {
            outageBackoffMs = Math.min(Math.max(100, outageBackoffMs * 2), 5_000);
            try {
                Thread.sleep(outageBackoffMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running.set(false);
            }
        }
    }

    private void awaitDeadLetters(List<Future<RecordMetadata>> sent) {
        if (sent.isEmpty()) {
            return;
        }
        deadLetters.flush();
        for (Future<RecordMetadata> f : sent) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while dead-lettering preferences records", e);
            } catch (ExecutionException e) {
                // Never dropped silently: without its dead letter the trainer stops (and says why).
                throw new IllegalStateException("cannot dead-letter a preferences record: "
                        + e.getCause().getMessage(), e.getCause());
            }
        }
    }

    private static boolean ownWriteBack(ConsumerRecord<String, byte[]> r) {
        Header origin = r.headers().lastHeader(ORIGIN_HEADER);
        return origin != null && ORIGIN.equals(new String(origin.value(), StandardCharsets.UTF_8));
    }

    /** Unreadable preferences records sent to the dead-letter topic by this trainer. */
    public synchronized long deadLettered() {
        return deadLettered;
    }

    private void accept(ConsumerRecord<String, byte[]> r, PreferencePair value, EncodedPair pair) {
        String tp = r.topic() + "-" + r.partition();
        next.put(tp, r.offset() + 1);
        if (pair == null) {
            return;  // a tombstone, or our own write-back of a pair already trained on
        }
        boolean held = Math.floorMod(value.getPairId().hashCode(), config.getInt(OnlineRmConfig.HOLDOUT_EVERY)) == 0;
        ArrayDeque<EncodedPair> buffer = held ? heldOut : train;
        buffer.addLast(pair);
        int cap = held ? Math.max(1, config.getInt(OnlineRmConfig.BUFFER_PAIRS) / 4) : config.getInt(OnlineRmConfig.BUFFER_PAIRS);
        while (buffer.size() > cap) {
            buffer.removeFirst();
        }
        if (r.offset() >= trainedUpTo.getOrDefault(tp, 0L)) {
            if (fresh.isEmpty()) {
                firstFreshAt = System.currentTimeMillis();
            }
            if (!held) {
                freshTrain++;
            }
            fresh.add(value);
            freshEncoded.add(pair);
            pairsSeen++;
        }
    }

    private boolean due() {
        if (fresh.isEmpty() || train.size() < 2) {
            return false;
        }
        return fresh.size() >= config.getInt(OnlineRmConfig.TRAIN_EVERY_PAIRS)
                || System.currentTimeMillis() - firstFreshAt >= config.getLong(OnlineRmConfig.TRAIN_MAX_WAIT_MS);
    }

    /** One round: strengths, method, training, evaluation, checkpoint, publication, write-back. */
    private void round(RmVersionPublisher publisher, KafkaProducer<String, PreferencePair> writeBack) {
        long start = System.nanoTime();
        RmMethod method = config.method();
        if (replayDraws == null) {
            // Seeded by the version, so a round redone after a crash draws the same replay sample.
            replayDraws = new Random(config.getLong(OnlineRmConfig.SEED) * 31 + version);
        }
        List<EncodedPair> pairs = config.retrain() ? new ArrayList<>(train)
                : roundPairs(new ArrayList<>(train), freshTrain, config.getDouble(OnlineRmConfig.REPLAY_RATIO),
                        replayDraws);
        List<TrainingPair> prepared;
        if (method.needsStrength() && version > 0) {
            prepared = PreferenceRelabeling.prepare(pairs, ensemble.strengths(pairs), method);
        } else {
            if (method.needsStrength()) {
                LOG.info("round 1 trains plain Bradley–Terry: {} needs strengths from a trained ensemble", method.name());
            }
            prepared = pairs.stream().map(TrainingPair::plain).toList();
        }
        if (config.retrain()) {
            RmTrainingConfig training = ensemble.config();
            ensemble.close();
            ensemble = RmEnsemble.create(training, method);
        }
        List<RewardModelTrainer.Report> reports = ensemble.train(prepared, metaGroups(), progress);
        Map<String, Double> metrics = new LinkedHashMap<>();
        double accuracy = 0;
        List<EncodedPair> eval = new ArrayList<>(heldOut);
        eval = eval.subList(Math.max(0, eval.size() - config.getInt(OnlineRmConfig.EVAL_PAIRS)), eval.size());
        for (int m = 0; m < ensemble.size(); m++) {
            if (!eval.isEmpty()) {
                double acc = RmEvaluation.of(ensemble.member(m), eval, List.of()).pairwiseAccuracy();
                metrics.put("eval/pairwise_accuracy/" + memberName(m), acc);
                accuracy += acc / ensemble.size();
            }
        }
        if (!eval.isEmpty()) {
            metrics.put("eval/pairwise_accuracy", accuracy);
            metrics.put("eval/pairs", (double) eval.size());
        }
        metrics.put("losses/preference", reports.stream().mapToDouble(RewardModelTrainer.Report::lastEpochLoss)
                .average().orElse(Double.NaN));
        metrics.put("data/train_pairs", (double) pairs.size());
        metrics.put("data/new_pairs", (double) fresh.size());
        metrics.put("data/flipped", (double) prepared.stream().filter(TrainingPair::flipped).count());
        List<PairStrength> strengths = ensemble.strengths(freshEncoded);
        StrengthSummary summary = StrengthSummary.of(strengths, 10, 5.0);
        metrics.put("strength/mean", summary.meanMean());
        metrics.put("strength/std", summary.meanStd());
        metrics.put("strength/share_negative", summary.shareNegative());

        long newVersion = version + 1;
        List<Checkpoint> members = new ArrayList<>();
        for (int m = 0; m < ensemble.size(); m++) {
            members.add(ensemble.member(m).toCheckpoint(Map.of("name", memberName(m), "version",
                    Long.toString(newVersion), "method", method.name()), null));
        }
        Map<String, Long> offsets = new HashMap<>(trainedUpTo);
        offsets.putAll(next);
        store.save(new RmCheckpoint(newVersion, version, members, offsets, pairsSeen, ensemble.trainer(0).steps(),
                metrics));
        boolean viaTopic = config.getBoolean(OnlineRmConfig.CHECKPOINT_TOPIC);
        // The state goes with the last member's record, sent after the others: a published state names a version
        // whose members are all published.
        byte[] state = config.getBoolean(OnlineRmConfig.STATE_TOPIC) ? store.toBytes(newVersion) : null;
        for (int m = 0; m < ensemble.size(); m++) {
            publisher.publish(RewardModelVersion.newBuilder()
                    .setName(memberName(m))
                    .setVersion(newVersion)
                    .setCheckpointUri(store.memberDir(newVersion, m).toUri().toString())
                    .setSha256(store.memberSha256(newVersion, m))
                    .setSizeBytes(store.memberSize(newVersion, m))
                    .setParentVersion(version == 0 ? null : version)
                    .setStep(ensemble.trainer(m).steps())
                    .setEnsemble(config.getString(OnlineRmConfig.NAME))
                    .setMetrics(metrics)
                    .setCreatedAt(Instant.now())
                    .build(), viaTopic ? CheckpointStore.toBytes(members.get(m)) : null,
                    m == ensemble.size() - 1 ? state : null);
        }
        if (config.getBoolean(OnlineRmConfig.WRITE_STRENGTH)) {
            writeBack(writeBack, strengths, newVersion);
        }
        store.prune(config.getInt(OnlineRmConfig.CHECKPOINTS_KEPT));
        synchronized (this) {
            version = newVersion;
            rounds++;
        }
        trainedUpTo = offsets;
        LOG.info("reward models version {}: {} new pairs, {} trained, held-out accuracy {}, strength μ̂ {} "
                        + "(share < 0: {}), {} s", newVersion, fresh.size(), pairs.size(),
                String.format("%.3f", metrics.getOrDefault("eval/pairwise_accuracy", Double.NaN)),
                String.format("%.3f", summary.meanMean()), String.format("%.3f", summary.shareNegative()),
                String.format("%.1f", (System.nanoTime() - start) / 1e9));
        fresh.clear();
        freshEncoded.clear();
        freshTrain = 0;
    }

    /**
     * The pairs a fine-tuning round trains on: the buffer's newest {@code newPairs} (this round's feedback) and a
     * uniform sample, without replacement, of {@code ratio} older pairs per new one (at least one new pair is assumed,
     * so a round that only waited out {@code rm.train.max.wait.ms} still replays a little). Older pairs come first, in
     * buffer order, then the new ones; the trainer shuffles each epoch.
     *
     * @param buffer   the training buffer, oldest first
     * @param newPairs how many of its newest pairs arrived since the last round
     * @param ratio    older pairs replayed per new pair
     */
    static List<EncodedPair> roundPairs(List<EncodedPair> buffer, int newPairs, double ratio, Random draws) {
        int fresh = Math.min(Math.max(newPairs, 0), buffer.size());
        int older = buffer.size() - fresh;
        long wanted = (long) Math.ceil(ratio * Math.max(fresh, 1));
        int replay = (int) Math.min(older, wanted);
        List<EncodedPair> out = new ArrayList<>(replay + fresh);
        if (replay == older) {
            out.addAll(buffer.subList(0, older));
        } else {
            // Selection sampling (Knuth's algorithm S): each older pair is kept with the right conditional chance.
            int needed = replay;
            for (int i = 0; i < older && needed > 0; i++) {
                if (draws.nextInt(older - i) < needed) {
                    out.add(buffer.get(i));
                    needed--;
                }
            }
        }
        out.addAll(buffer.subList(older, buffer.size()));
        return out;
    }

    private void writeBack(KafkaProducer<String, PreferencePair> producer, List<PairStrength> strengths, long v) {
        List<ModelRef> models = new ArrayList<>();
        for (int m = 0; m < ensemble.size(); m++) {
            models.add(new ModelRef(memberName(m), v));
        }
        StrengthWriteBack.write(producer, topics, fresh, strengths, models);
    }

    private List<PromptGroup> metaGroups() {
        List<PromptGroup> out = new ArrayList<>();
        for (List<Generation> group : recentGenerations.values()) {
            if (group.size() >= 2) {
                List<int[]> responses = group.stream().map(g -> AvroArrays.toInts(g.getResponseTokens())).toList();
                out.add(new PromptGroup(group.get(0).getPromptId(), AvroArrays.toInts(group.get(0).getPromptTokens()),
                        responses));
            }
        }
        return out;
    }

    private void pollGenerations() {
        if (generations == null) {
            return;
        }
        int keep = config.getInt(OnlineRmConfig.META_GENERATIONS);
        for (ConsumerRecord<String, Generation> r : generations.poll(Duration.ZERO)) {
            if (r.value() == null) {
                continue;
            }
            List<Generation> group = recentGenerations.remove(r.value().getPromptId());
            group = group == null ? new ArrayList<>() : group;
            group.add(r.value());
            recentGenerations.put(r.value().getPromptId(), group);  // re-inserted: newest last
            while (recentGenerations.size() > keep) {
                recentGenerations.remove(recentGenerations.keySet().iterator().next());
            }
        }
    }

    private KafkaConsumer<String, byte[]> preferencesConsumer() {
        TopicSpec<String, PreferencePair> spec = topics.preferences();
        // Values are decoded record by record, so that one unreadable record is dead-lettered, not fatal.
        KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(consumerProperties(), spec.keyDeserializer(),
                new ByteArrayDeserializer());
        List<TopicPartition> partitions = c.partitionsFor(spec.name(), Duration.ofSeconds(30)).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        c.assign(partitions);
        c.seekToBeginning(partitions);  // refill the buffer; offsets in the checkpoint say what is new
        return c;
    }

    private KafkaConsumer<String, Generation> generationsConsumer() {
        TopicSpec<String, Generation> spec = topics.generations();
        KafkaConsumer<String, Generation> c = new KafkaConsumer<>(consumerProperties(), spec.keyDeserializer(),
                spec.valueDeserializer());
        List<TopicPartition> partitions = c.partitionsFor(spec.name(), Duration.ofSeconds(30)).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        c.assign(partitions);
        // Only the policy's current distribution matters: start a little before the end.
        Map<TopicPartition, Long> end = c.endOffsets(partitions);
        int back = 8 * config.getInt(OnlineRmConfig.META_GENERATIONS);
        end.forEach((tp, offset) -> c.seek(tp, Math.max(0, offset - back)));
        return c;
    }

    private Map<String, Object> consumerProperties() {
        Map<String, Object> props = KafkaClients.only(clientProperties, ConsumerConfig.configNames());
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);  // positions come from the checkpoint, not a group
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return props;
    }

    private KafkaProducer<byte[], byte[]> deadLetterProducer() {
        Map<String, Object> props = KafkaClients.only(clientProperties, ProducerConfig.configNames());
        props.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private KafkaProducer<String, PreferencePair> writeBackProducer() {
        Map<String, Object> props = KafkaClients.only(clientProperties, ProducerConfig.configNames());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        TopicSpec<String, PreferencePair> spec = topics.preferences();
        return new KafkaProducer<>(props, spec.keySerializer(), spec.valueSerializer());
    }

    private void closeConsumers() {
        if (consumer != null) {
            consumer.close(Duration.ofSeconds(5));
            consumer = null;
        }
        if (generations != null) {
            generations.close(Duration.ofSeconds(5));
            generations = null;
        }
        if (deadLetters != null) {
            deadLetters.close(Duration.ofSeconds(5));
            deadLetters = null;
        }
    }

    /** The current ensemble's models (for tests and the CLI; do not train them elsewhere). */
    public List<TransformerRewardModel> members() {
        return ensemble == null ? List.of() : ensemble.members();
    }

    @Override
    public void close() {
        stop();
        if (ensemble != null) {
            ensemble.close();
            ensemble = null;
        }
    }
}
