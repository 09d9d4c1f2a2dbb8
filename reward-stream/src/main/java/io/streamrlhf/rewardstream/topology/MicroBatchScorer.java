package io.streamrlhf.rewardstream.topology;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import io.streamrlhf.models.pipeline.InOrderPipeline;
import io.streamrlhf.rewardstream.scoring.NormalizationState;
import io.streamrlhf.rewardstream.scoring.ScoringOutcome;
import io.streamrlhf.rewardstream.scoring.model.RewardModelSwapper;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores generations in micro-batches. Each record joins the task's {@link PendingBatch}; when it holds
 * {@code batchSize} records, or its oldest record has waited {@code maxWait} (checked by a wall-clock punctuation),
 * the batch is scored by the ensemble ({@link BatchScoring}), the results are forwarded in input order (to
 * {@code scored} as {@link ScoredGenerations}, or with dead-letter headers to {@code generations.dlq}) and the batch
 * is cleared.
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
 * while Kafka work is done. At most {@value #MAX_IN_FLIGHT} batches are in flight (an {@link InOrderPipeline}),
 * scored one after another in input order; their results are forwarded by the stream thread (the only thread that
 * may write to Kafka Streams), at the next record or punctuation after they finish, or at once when another full
 * batch must wait. Until then its records stay in the committed buffer, so a crash or a rebalance mid-scoring loses
 * nothing and writes nothing twice: the next owner scores them again. Without pipelining a batch is scored on the
 * stream thread and forwarded at once.
 *
 * <p><b>Normalisation</b> is shared by all tasks: see {@link SharedNormalization}.
 *
 * <p><b>Reward-model swap.</b> Before each batch, versions in the {@value ScoringTopology#RM_VERSIONS_STORE} store
 * that the ensemble does not run yet are swapped in ({@link RewardModelSwapper#catchUp}).
 */
final class MicroBatchScorer implements Processor<String, Decoded<Generation>, Object, Object> {
    private static final Logger LOG = LoggerFactory.getLogger(MicroBatchScorer.class);

    /** Key of the records waiting for a batch in the buffer store (rewritten after every record). */
    static final String PENDING_KEY = "pending";
    /** Key of the records handed to the scorer and not yet written (rewritten when batches start or finish). */
    static final String IN_FLIGHT_KEY = "in-flight";
    /**
     * A forwarded batch asks for a commit unless the last such request was more recent than this: a slow stream's
     * scores become visible (read_committed) at once rather than at the next {@code commit.interval.ms}, and a fast
     * one still commits at most this often, as under Kafka Streams' exactly-once default.
     */
    static final long SCORED_COMMIT_MIN_GAP_MS = 100;
    /**
     * Batches handed to the scorer at most: two, so the scorer starts the next batch as soon as it finishes one even
     * while the stream thread is busy elsewhere (a commit, a fetch); more would only add latency.
     */
    static final int MAX_IN_FLIGHT = 2;

    private final ScoringTopology.Settings settings;
    private final RewardModelSwapper swapper;
    private final Deserializer<Generation> valueDeserializer;
    private final StringSerializer keySerializer = new StringSerializer();

    private ProcessorContext<Object, Object> context;
    private KeyValueStore<String, byte[]> buffer;
    private KeyValueStore<String, RewardModelVersion> rmVersions;
    private String taskKey;
    private PendingBatch pending;
    /** Batches handed to the scorer and not yet forwarded, oldest first. */
    private InOrderPipeline<InFlight, BatchScoring.Scored> scorer;
    /** Records in {@link #scorer}: the first this many pending records. */
    private int inFlightRecords;
    private SharedNormalization normalization;
    private boolean storeHoldsPending;
    private boolean storeHoldsInFlight;
    private boolean inFlightChanged;
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
        this.rmVersions = context.getStateStore(ScoringTopology.RM_VERSIONS_STORE);
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
        // A fresh instance per init: a batch still running from before a re-initialisation (a task revived after an
        // error) advances the old instance's statistics, never those restored here.
        normalization = new SharedNormalization(taskKey, context.getStateStore(ScoringTopology.STATS_STORE),
                context.getStateStore(ScoringTopology.NORM_STATS_GLOBAL_STORE));
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
        inFlightRecords = 0;
        if (scorer != null) {
            scorer.abandon(); // re-initialised without close(): drop what the old incarnation queued
        }
        scorer = settings.pipelined() ? InOrderPipeline.onThread("reward-scorer-" + taskKey, MAX_IN_FLIGHT)
                : InOrderPipeline.inline(MAX_IN_FLIGHT);
        // Checks the time limit, and picks up a pipelined batch that finished while no record came.
        long tick = Math.max(5, Math.min(settings.maxWait().toMillis() / 2, 50));
        context.schedule(Duration.ofMillis(tick), PunctuationType.WALL_CLOCK_TIME, now -> {
            drive(now);
            persist();
        });
    }

    /** A batch handed to the scorer: how many of the pending records it holds, and what triggered it. */
    private record InFlight(int size, String trigger) {
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
            while (scorer.oldestDone()) {
                complete();
                completed = true;
            }
            int waiting = pending.size() - inFlightRecords;
            if (waiting >= batchSize && scorer.isFull()) {
                complete(); // waits: the scorer is the bottleneck, and the next batch is full
                completed = true;
            }
            if (completed) {
                lastFlushEndMs = Math.max(lastFlushEndMs,
                        now + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            }
            if (waiting >= batchSize) {
                submit(batchSize, "size");
            } else if (waiting > 0 && scorer.isEmpty()
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
            try {
                if (!scorer.stop(Duration.ofSeconds(30))) {
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
        swapper.catchUp(rmVersions::get);
        List<Generation> batch = List.copyOf(pending.generations().subList(inFlightRecords, inFlightRecords + size));
        scorer.submit(new InFlight(size, trigger), new BatchScoring(taskKey, batch, settings.ensemble(),
                normalization.nextBatch(), settings.reference()));
        inFlightRecords += size;
        inFlightChanged = true;
    }

    /** Forwards the oldest in-flight batch's results in input order, waiting for them if need be. */
    private void complete() {
        InFlight batch = scorer.oldest();
        inFlightRecords -= batch.size();
        inFlightChanged = true;
        BatchScoring.Scored result;
        try {
            result = scorer.takeOldest();
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
        Headers normHeaders = SharedNormalization.headers(state);
        String referenceModel = settings.reference() == null ? null : settings.reference().id();
        int scored = 0;
        for (int i = 0; i < batch.size(); i++) {
            ScoringOutcome outcome = outcomes.get(i);
            BufferedRecord e = entries.get(i);
            if (outcome.scored()) {
                scored++;
                ScoredGeneration out = ScoredGenerations.of(generations.get(i), outcome.score(),
                        Instant.ofEpochMilli(scoredAt), result.reference() == null ? null : result.reference()[i],
                        referenceModel);
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
        normalization.adopt(state).ifPresent(own -> context.forward(new Record<Object, Object>(taskKey, own,
                scoredAt), ScoringTopology.NORM_STATS_SINK));
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

    private static Headers copy(Headers headers) {
        return new RecordHeaders(headers.toArray());
    }
}
