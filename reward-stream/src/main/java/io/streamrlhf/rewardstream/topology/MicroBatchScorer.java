package io.streamrlhf.rewardstream.topology;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import io.streamrlhf.rewardstream.scoring.NormalizationState;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.RunningStats;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.rewardstream.scoring.ScoringOutcome;
import io.streamrlhf.rewardstream.scoring.SourceResult;
import io.streamrlhf.rewardstream.scoring.model.ModelRewardSource;
import io.streamrlhf.rewardstream.scoring.model.RewardModelSwapper;
import io.streamrlhf.schemas.AvroArrays;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.avro.SourceScore;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores generations in micro-batches. Each record joins the task's {@link PendingBatch}; when it holds
 * {@code batchSize} records, or its oldest record has waited {@code maxWait} (checked by a wall-clock punctuation),
 * the batch is scored by the ensemble, the results are forwarded in input order (to {@code scored}, or with
 * dead-letter headers to {@code generations.dlq}) and the batch is cleared.
 *
 * <p><b>Exactly once.</b> After every record the records not yet written out are put, as two values (those in
 * flight, those waiting), into the changelogged and cached buffer store. Under exactly-once the cache is flushed to
 * the changelog when a transaction commits, together with the outputs and the input offsets: a crash leaves each
 * record either in the restored buffer (its offset was committed) or unread (its offset was not), and it is scored
 * and written once. Because the store is cached and holds whole batches as single values, records scored between
 * two commits never reach the changelog; only what is pending at a commit is written, once per commit.
 *
 * <p><b>Pipelining.</b> With {@link ScoringTopology.Settings#pipelined()} a batch is scored on a scorer thread of
 * this task while the stream thread goes on reading, decoding and buffering the next one, so the model is not idle
 * while Kafka work is done. At most {@value #MAX_IN_FLIGHT} batches are in flight, scored one after another in input
 * order; their results are forwarded by the stream thread (the only thread that may write to Kafka Streams), at the
 * next record or punctuation after they finish, or at once when another full batch must wait. Until then its records stay in the committed buffer, so a crash or a
 * rebalance mid-scoring loses nothing and writes nothing twice: the next owner scores them again. Without
 * pipelining a batch is scored on the stream thread and forwarded at once.
 *
 * <p><b>Normalisation.</b> Each task keeps the running statistics (Welford) of its own partition's raw scores in the
 * changelogged store {@value ScoringTopology#STATS_STORE}, and publishes them after each batch to the statistics
 * topic, keyed by task id; a global store gives every task the others' latest committed statistics. A batch is
 * normalised against its own statistics merged with the others' ({@link RunningStats#merge}), so all partitions
 * share one running mean and variance per source, while each partition's contribution stays exactly-once (it is
 * state of its own task). The combined version (batches that updated any partition's statistics) goes out in the
 * header {@value #NORM_VERSION_HEADER} and each source's combined count in {@code rlhf.norm.count.<scorer>}.
 */
final class MicroBatchScorer implements Processor<String, Decoded<Generation>, Object, Object> {
    private static final Logger LOG = LoggerFactory.getLogger(MicroBatchScorer.class);

    /** Header carrying the normalisation statistics' version that normalised a scored record. */
    static final String NORM_VERSION_HEADER = "rlhf.norm.version";
    /** Prefix of the per-source observation-count headers. */
    static final String NORM_COUNT_HEADER_PREFIX = "rlhf.norm.count.";
    /** Key of the records waiting for a batch in the buffer store (rewritten after every record). */
    static final String PENDING_KEY = "pending";
    /** Key of the records handed to the scorer and not yet written (rewritten when batches start or finish). */
    static final String IN_FLIGHT_KEY = "in-flight";
    /** Key of this task's statistics in the statistics store. */
    static final String OWN_STATS_KEY = "own";
    /**
     * A forwarded batch asks for a commit unless the last such request was more recent than this: a slow stream's
     * scores become visible (read_committed) at once rather than at the next {@code commit.interval.ms}, and a fast
     * one still commits at most this often, as under Kafka Streams' exactly-once default.
     */
    static final long SCORED_COMMIT_MIN_GAP_MS = 100;

    private final ScoringTopology.Settings settings;
    private final RewardModelSwapper swapper;
    private final Deserializer<Generation> valueDeserializer;
    private final StringSerializer keySerializer = new StringSerializer();

    private ProcessorContext<Object, Object> context;
    private KeyValueStore<String, byte[]> buffer;
    private KeyValueStore<String, byte[]> stats;
    private KeyValueStore<String, RewardModelVersion> rmVersions;
    private KeyValueStore<String, byte[]> sharedStats;
    private String taskKey;
    private PendingBatch pending;
    /** Batches handed to the scorer and not yet forwarded, oldest first. */
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
    /** Records in {@link #inFlight}: the first this many pending records. */
    private int inFlightRecords;
    /**
     * The own statistics after the newest submitted batch. Each batch is normalised with the statistics its
     * predecessors left; batches run one after another on the single scorer thread, which reads and advances this.
     */
    private AtomicReference<NormalizationState> latestOwn;
    private ExecutorService scorer;
    private boolean storeHoldsPending;
    private boolean storeHoldsInFlight;
    private boolean inFlightChanged;
    private NormalizationState own;
    private long lastFlushEndMs;
    private long lastCommitRequestMs = Long.MIN_VALUE / 2;
    private Counter scoredCounter;
    private Counter batchCounter;
    private DistributionSummary batchSizes;
    private Timer ensembleTime;
    private Timer referenceTime;

    MicroBatchScorer(ScoringTopology.Settings settings, RewardModelSwapper swapper) {
        this.settings = settings;
        this.swapper = swapper;
        this.valueDeserializer = settings.topics().generations().valueDeserializer();
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
        this.buffer = context.getStateStore(ScoringTopology.BUFFER_STORE);
        this.stats = context.getStateStore(ScoringTopology.STATS_STORE);
        this.rmVersions = context.getStateStore(ScoringTopology.RM_VERSIONS_STORE);
        this.sharedStats = context.getStateStore(ScoringTopology.NORM_STATS_GLOBAL_STORE);
        this.taskKey = context.taskId().toString();
        // After a restart the buffer holds what the last committed transaction left: the records that were in
        // flight, then those that were waiting, in input order. All of them wait for a batch now.
        pending = new PendingBatch();
        byte[] restoredInFlight = buffer.get(IN_FLIGHT_KEY);
        byte[] restoredWaiting = buffer.get(PENDING_KEY);
        for (byte[] restored : new byte[][] {restoredInFlight, restoredWaiting}) {
            if (restored != null) {
                pending.addAll(restored, r -> valueDeserializer.deserialize(r.topic(), r.value()));
            }
        }
        storeHoldsPending = restoredWaiting != null;
        storeHoldsInFlight = restoredInFlight != null;
        inFlightChanged = storeHoldsInFlight; // rewritten as the records are batched again
        if (!pending.isEmpty()) {
            LOG.info("task {}: {} generation(s) restored in the micro-batch buffer", taskKey, pending.size());
        }
        byte[] ownStats = stats.get(OWN_STATS_KEY);
        own = ownStats == null ? new NormalizationState() : NormalizationState.fromBytes(ownStats);
        var meters = settings.deadLetters().registry();
        scoredCounter = Counter.builder("rlhf.scoring.records").description("Generations scored")
                .register(meters);
        batchCounter = Counter.builder("rlhf.scoring.batches").description("Micro-batches scored").register(meters);
        batchSizes = DistributionSummary.builder("rlhf.scoring.batch.size").description("Records per micro-batch")
                .register(meters);
        ensembleTime = Timer.builder("rlhf.scoring.ensemble.time")
                .description("Time the ensemble spends scoring micro-batches").register(meters);
        referenceTime = Timer.builder("rlhf.scoring.reference.time")
                .description("Time the reference policy spends on the log-probs of micro-batches").register(meters);
        inFlight.clear();
        inFlightRecords = 0;
        // A fresh reference per init: a batch still running from before a re-initialisation (a task revived after
        // an error) advances its own, discarded copy, never the statistics restored here.
        latestOwn = new AtomicReference<>(own);
        if (scorer != null) {
            scorer.shutdownNow(); // re-initialised without close(): drop what the old incarnation queued
            scorer = null;
        }
        if (settings.pipelined()) {
            scorer = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "reward-scorer-" + taskKey);
                t.setDaemon(true);
                return t;
            });
        }
        // Checks the time limit, and picks up a pipelined batch that finished while no record came.
        long tick = Math.max(5, Math.min(settings.maxWait().toMillis() / 2, 50));
        context.schedule(Duration.ofMillis(tick), PunctuationType.WALL_CLOCK_TIME, now -> {
            drive(now);
            persist();
        });
    }

    /**
     * Batches handed to the scorer at most: two, so the scorer starts the next batch as soon as it finishes one even
     * while the stream thread is busy elsewhere (a commit, a fetch); more would only add latency.
     */
    static final int MAX_IN_FLIGHT = 2;

    /** A batch handed to the scorer: how many of the pending records it holds, and its result. */
    private record InFlight(int size, String trigger, Future<Scored> result) {
    }

    /**
     * What scoring a batch gave: one outcome per record, the statistics after it, the time it took, and the reference
     * policy's log-probs of each record's response with their time ({@code null} without them).
     */
    private record Scored(List<ScoringOutcome> outcomes, NormalizationState state, long ensembleNanos,
                          float[][] reference, long referenceNanos) {
    }

    @Override
    public void process(Record<String, Decoded<Generation>> record) {
        Optional<RecordMetadata> meta = context.recordMetadata();
        String topic = meta.map(RecordMetadata::topic).orElse(settings.topics().generations().name());
        // Streams caches wall-clock time per loop iteration, so right after a long flush the cached time is older
        // than the flush's end; without this correction the next batch would look old at once and flush early.
        long now = Math.max(context.currentSystemTimeMs(), lastFlushEndMs);
        pending.add(new BufferedRecord(record.key(), record.value().raw(), record.timestamp(), topic,
                meta.map(RecordMetadata::partition).orElse(-1), meta.map(RecordMetadata::offset).orElse(-1L), now),
                record.value().value());
        drive(now);
        persist();
    }

    /**
     * Moves batches along: forwards the in-flight batch's results when it is done (or waits for it when the next
     * batch is already full), and hands the next batch to the scorer when it is full or its oldest record has waited
     * the time limit since the scorer became free (so a record waits at most the previous batch's scoring time plus
     * T). Without pipelining the scorer runs inline, so a submitted batch is forwarded at once.
     */
    private void drive(long now) {
        int batchSize = settings.batchSize();
        long started = System.nanoTime();
        while (true) {
            boolean completed = false;
            while (!inFlight.isEmpty() && inFlight.peekFirst().result().isDone()) {
                complete();
                completed = true;
            }
            int waiting = pending.size() - inFlightRecords;
            if (waiting >= batchSize && inFlight.size() >= MAX_IN_FLIGHT) {
                complete(); // waits: the scorer is the bottleneck, and the next batch is full
                completed = true;
            }
            if (completed) {
                lastFlushEndMs = Math.max(lastFlushEndMs,
                        now + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            }
            if (waiting >= batchSize) {
                submit(batchSize, "size");
            } else if (waiting > 0 && inFlight.isEmpty()
                    && now - Math.max(pending.enqueuedAtMs(inFlightRecords), lastFlushEndMs)
                    >= settings.maxWait().toMillis()) {
                // The time limit counts from when the scorer was free to take the batch: time spent waiting for
                // earlier batches is not time the batch had to fill, and counting it would make small batches
                // exactly when the scorer is the bottleneck.
                submit(waiting, "time");
            } else {
                return;
            }
        }
    }

    /**
     * Kept current after every record and punctuation: a commit may come before the next one. Two values, so a
     * record costs a copy of the waiting records only, not of the batches in flight too.
     */
    private void persist() {
        if (inFlightChanged) {
            if (inFlightRecords > 0) {
                buffer.put(IN_FLIGHT_KEY, pending.toBytes(0, inFlightRecords));
                storeHoldsInFlight = true;
            } else if (storeHoldsInFlight) {
                buffer.delete(IN_FLIGHT_KEY);
                storeHoldsInFlight = false;
            }
            inFlightChanged = false;
        }
        if (pending.size() > inFlightRecords) {
            buffer.put(PENDING_KEY, pending.toBytes(inFlightRecords, pending.size()));
            storeHoldsPending = true;
        } else if (storeHoldsPending) {
            buffer.delete(PENDING_KEY);
            storeHoldsPending = false;
        }
    }

    @Override
    public void close() {
        if (scorer != null) {
            // A batch still being scored is dropped here; its records are in the committed buffer.
            scorer.shutdown();
            try {
                if (!scorer.awaitTermination(30, TimeUnit.SECONDS)) {
                    LOG.warn("task {}: the scorer did not finish its batch within 30 s of closing", taskKey);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            scorer = null;
        }
    }

    /** Hands the {@code size} pending records after those in flight to the scorer (inline without pipelining). */
    private void submit(int size, String trigger) {
        applyPublishedModels();
        List<Generation> batch = List.copyOf(pending.generations().subList(inFlightRecords, inFlightRecords + size));
        Others others = others();
        AtomicReference<NormalizationState> chain = latestOwn;
        Callable<Scored> task = () -> {
            long start = System.nanoTime();
            List<ScoringInput> inputs = new ArrayList<>(batch.size());
            for (Generation g : batch) {
                inputs.add(ScoringInput.of(g));
            }
            NormalizationState before = chain.get();
            NormalizationState state = new NormalizationState(before.all(), before.version(), others.stats(),
                    others.version());
            List<ScoringOutcome> outcomes = settings.ensemble().score(inputs, state);
            chain.set(new NormalizationState(state.all(), state.version()));
            long scoredNanos = System.nanoTime();
            return new Scored(outcomes, state, scoredNanos - start, referenceLogprobs(batch), System.nanoTime()
                    - scoredNanos);
        };
        Future<Scored> result;
        if (scorer == null) {
            FutureTask<Scored> inline = new FutureTask<>(task);
            inline.run();
            result = inline;
        } else {
            result = scorer.submit(task);
        }
        inFlight.addLast(new InFlight(size, trigger, result));
        inFlightRecords += size;
        inFlightChanged = true;
    }

    /**
     * The reference policy's log-probs of each generation's response, or {@code null} without a reference or when
     * the batch does not fit it; the learner then runs its own reference, so nothing is lost but time.
     */
    private float[][] referenceLogprobs(List<Generation> batch) {
        if (settings.reference() == null) {
            return null;
        }
        try {
            return settings.reference().logprobs(batch);
        } catch (RuntimeException e) {
            LOG.warn("task {}: no reference log-probs for a micro-batch of {} generations (the learner will compute "
                    + "them): {}", taskKey, batch.size(), e.toString());
            return null;
        }
    }

    /** Forwards the oldest in-flight batch's results in input order, waiting for them if need be. */
    private void complete() {
        InFlight batch = inFlight.pollFirst();
        inFlightRecords -= batch.size();
        inFlightChanged = true;
        Scored result;
        try {
            result = batch.result().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BatchFailedException("interrupted while waiting for a micro-batch of " + batch.size()
                    + " generations in task " + taskKey, e);
        } catch (ExecutionException e) {
            throw new BatchFailedException("scoring a micro-batch of " + batch.size() + " generations failed in task "
                    + taskKey + ": " + e.getCause(), e.getCause());
        }
        ensembleTime.record(result.ensembleNanos(), TimeUnit.NANOSECONDS);
        if (result.reference() != null) {
            referenceTime.record(result.referenceNanos(), TimeUnit.NANOSECONDS);
        }
        List<BufferedRecord> entries = pending.records();
        List<Generation> generations = pending.generations();
        List<ScoringOutcome> outcomes = result.outcomes();
        NormalizationState state = result.state();
        long scoredAt = context.currentSystemTimeMs();
        Headers normHeaders = normHeaders(state);
        int scored = 0;
        for (int i = 0; i < batch.size(); i++) {
            ScoringOutcome outcome = outcomes.get(i);
            BufferedRecord e = entries.get(i);
            if (outcome.scored()) {
                scored++;
                List<SourceScore> scores = new ArrayList<>(outcome.score().scores().size());
                for (SourceResult r : outcome.score().scores()) {
                    scores.add(r.toAvro());
                }
                ScoredGeneration out = ScoredGeneration.newBuilder()
                        .setGeneration(generations.get(i))
                        .setScores(scores)
                        .setEnsembleMean(outcome.score().mean())
                        .setEnsembleStd(outcome.score().std())
                        .setEnsembleMin(outcome.score().min())
                        .setAggregation(outcome.score().aggregation().wireName())
                        .setReward(outcome.score().reward())
                        .setScoredAt(Instant.ofEpochMilli(scoredAt))
                        .setReferenceLogprobs(result.reference() == null ? null
                                : AvroArrays.ofFloats(result.reference()[i]))
                        .setReferenceModel(result.reference() == null ? null : settings.reference().id())
                        .build();
                context.forward(new Record<Object, Object>(e.key(), out, e.timestamp(), copy(normHeaders)),
                        ScoringTopology.SCORED_SINK);
            } else {
                Headers headers = settings.deadLetters().headers(e.topic(), e.partition(), e.offset(),
                        outcome.error(), null);
                settings.deadLetters().count(e.topic(), outcome.error());
                LOG.warn("dead-lettering generation {}: {}", outcome.input().id(), outcome.error().getMessage());
                context.forward(new Record<Object, Object>(
                        e.key() == null ? null : keySerializer.serialize(e.topic(), e.key()), e.value(),
                        e.timestamp(), headers), ScoringTopology.GENERATIONS_DLQ_SINK);
            }
        }
        if (state.version() != own.version()) {
            own = new NormalizationState(state.all(), state.version());
            byte[] ownBytes = own.toBytes();
            stats.put(OWN_STATS_KEY, ownBytes);
            // Published in the same transaction as the outputs it normalised: other tasks see only committed stats.
            context.forward(new Record<Object, Object>(taskKey, ownBytes, scoredAt), ScoringTopology.NORM_STATS_SINK);
        }
        pending.dropFirst(batch.size());
        if (scoredAt - lastCommitRequestMs >= SCORED_COMMIT_MIN_GAP_MS) {
            context.commit();
            lastCommitRequestMs = scoredAt;
        }
        scoredCounter.increment(scored);
        batchCounter.increment();
        batchSizes.record(batch.size());
        LOG.debug("task {}: scored a batch of {} ({} trigger)", taskKey, batch.size(), batch.trigger());
    }

    /** The other tasks' statistics merged per source, and the sum of their versions. */
    private record Others(Map<String, RunningStats> stats, long version) {
    }

    /** The latest committed statistics of every other task, merged per source. */
    private Others others() {
        Map<String, RunningStats> merged = new HashMap<>();
        long version = 0;
        try (KeyValueIterator<String, byte[]> it = sharedStats.all()) {
            while (it.hasNext()) {
                KeyValue<String, byte[]> kv = it.next();
                if (taskKey.equals(kv.key) || kv.value == null) {
                    continue; // our own statistics come from our own store, which is never behind
                }
                NormalizationState theirs;
                try {
                    theirs = NormalizationState.fromBytes(kv.value);
                } catch (IllegalArgumentException e) {
                    LOG.warn("ignoring unreadable normalisation statistics of task {}: {}", kv.key, e.getMessage());
                    continue;
                }
                version += theirs.version();
                theirs.all().forEach((name, st) -> merged.merge(name, st, RunningStats::merge));
            }
        }
        return new Others(merged, version);
    }

    /** Swaps in reward-model versions the global store holds and the ensemble does not run yet (e.g. on start). */
    private void applyPublishedModels() {
        for (RewardSource source : settings.ensemble().sources()) {
            if (source instanceof ModelRewardSource model) {
                RewardModelVersion published = rmVersions.get(model.name());
                if (published != null && published.getVersion() > model.version()
                        && !swapper.hasFailed(model.name(), published.getVersion())) {
                    swapper.apply(published);
                }
            }
        }
    }

    private static Headers normHeaders(NormalizationState state) {
        Headers headers = new RecordHeaders();
        headers.add(NORM_VERSION_HEADER, Long.toString(state.combinedVersion()).getBytes(StandardCharsets.UTF_8));
        state.allCombined().forEach((name, s) -> headers.add(NORM_COUNT_HEADER_PREFIX + name,
                Long.toString(s.count()).getBytes(StandardCharsets.UTF_8)));
        return headers;
    }

    private static Headers copy(Headers headers) {
        return new RecordHeaders(headers.toArray());
    }
}
