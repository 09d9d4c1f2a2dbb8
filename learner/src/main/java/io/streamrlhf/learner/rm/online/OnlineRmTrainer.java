package io.streamrlhf.learner.rm.online;

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
import io.streamrlhf.schemas.AvroArrays;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.ModelRef;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
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
 */
public final class OnlineRmTrainer implements AutoCloseable {

    /** Header marking records this trainer wrote back (they are skipped when read). */
    public static final String ORIGIN_HEADER = "rlhf.origin";
    /** Value of {@link #ORIGIN_HEADER} on written-back records. */
    public static final String ORIGIN = "rm-trainer";

    private static final Logger LOG = LoggerFactory.getLogger(OnlineRmTrainer.class);

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
    private KafkaConsumer<String, PreferencePair> consumer;
    private KafkaConsumer<String, Generation> generations;
    private RmEnsemble ensemble;
    private Map<String, Long> trainedUpTo = Map.of();
    private long version;
    private long rounds;
    private long pairsSeen;
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

    /** Rounds run by this process. */
    public synchronized long rounds() {
        return rounds;
    }

    /** Name of member m on {@code rm.versions}. */
    public String memberName(int m) {
        return config.getString(OnlineRmConfig.NAME) + "-" + m;
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
        restore();
        long maxRounds = config.getLong(OnlineRmConfig.MAX_ROUNDS);
        try (RmVersionPublisher publisher = new RmVersionPublisher(topics, clientProperties);
             KafkaProducer<String, PreferencePair> writeBack = writeBackProducer()) {
            consumer = preferencesConsumer();
            generations = config.getInt(OnlineRmConfig.META_GENERATIONS) > 0 && config.method().meta()
                    ? generationsConsumer() : null;
            while (running.get() && (maxRounds == 0 || rounds < maxRounds)) {
                try {
                    for (ConsumerRecord<String, PreferencePair> r : consumer.poll(Duration.ofMillis(200))) {
                        accept(r);
                    }
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
            closeConsumers();
        }
    }

    private void restore() {
        var checkpoint = store.loadNewest();
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

    private void accept(ConsumerRecord<String, PreferencePair> r) {
        String tp = r.topic() + "-" + r.partition();
        next.put(tp, r.offset() + 1);
        Header origin = r.headers().lastHeader(ORIGIN_HEADER);
        if (r.value() == null || (origin != null && ORIGIN.equals(new String(origin.value(), StandardCharsets.UTF_8)))) {
            return;  // a tombstone, or our own write-back of a pair already trained on
        }
        EncodedPair pair = encoder.encode(r.value());
        boolean held = Math.floorMod(r.value().getPairId().hashCode(), config.getInt(OnlineRmConfig.HOLDOUT_EVERY)) == 0;
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
            fresh.add(r.value());
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
                    .build(), viaTopic ? CheckpointStore.toBytes(members.get(m)) : null);
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

    private KafkaConsumer<String, PreferencePair> preferencesConsumer() {
        TopicSpec<String, PreferencePair> spec = topics.preferences();
        KafkaConsumer<String, PreferencePair> c = new KafkaConsumer<>(consumerProperties(), spec.keyDeserializer(),
                spec.valueDeserializer());
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
