package io.streamrlhf.rewardstream.topology;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import io.streamrlhf.rewardstream.scoring.NormalizationState;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.RunningStats;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.rewardstream.scoring.ScoringOutcome;
import io.streamrlhf.rewardstream.scoring.SourceResult;
import io.streamrlhf.rewardstream.scoring.model.ModelRewardSource;
import io.streamrlhf.rewardstream.scoring.model.RewardModelSwapper;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
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
 * Scores generations in micro-batches. Each record is appended to a changelogged buffer store under an increasing
 * sequence number; when the buffer holds {@code batchSize} records, or its oldest record has waited
 * {@code maxWait} (checked by a wall-clock punctuation), the whole buffer is scored as one batch by the ensemble,
 * the results are forwarded in input order (to {@code scored}, or with dead-letter headers to
 * {@code generations.dlq}) and the buffer is cleared.
 *
 * <p>Why a store and not a list: under exactly-once the buffer's changes, the outputs and the input offsets commit
 * in one transaction. A crash before a flush commits leaves the records in the restored buffer (their offsets are
 * committed) or unread (their offsets are not); either way each is scored and written once.
 *
 * <p>The normalisation statistics live in a second changelogged store, per source, with a version counter; the
 * version and each source's count go out as headers ({@value #NORM_VERSION_HEADER},
 * {@code rlhf.norm.count.<scorer>}) since the contract has no field for them.
 */
final class MicroBatchScorer implements Processor<String, Generation, Object, Object> {
    private static final Logger LOG = LoggerFactory.getLogger(MicroBatchScorer.class);

    /** Header carrying the normalisation statistics' version that normalised a scored record. */
    static final String NORM_VERSION_HEADER = "rlhf.norm.version";
    /** Prefix of the per-source observation-count headers. */
    static final String NORM_COUNT_HEADER_PREFIX = "rlhf.norm.count.";
    /** Key of the version counter in the statistics store (no scorer name starts with a NUL). */
    static final String VERSION_KEY = "\u0000version";

    private final ScoringTopology.Settings settings;
    private final RewardModelSwapper swapper;
    private final Serializer<Generation> valueSerializer;
    private final Deserializer<Generation> valueDeserializer;
    private final StringSerializer keySerializer = new StringSerializer();

    private ProcessorContext<Object, Object> context;
    private KeyValueStore<Long, byte[]> buffer;
    private KeyValueStore<String, byte[]> stats;
    private KeyValueStore<String, RewardModelVersion> rmVersions;
    private long nextSeq;
    private int buffered;
    private long oldestEnqueuedMs = Long.MAX_VALUE;
    private long lastFlushEndMs;
    private Counter scoredCounter;
    private Counter batchCounter;
    private DistributionSummary batchSizes;
    private Timer ensembleTime;

    MicroBatchScorer(ScoringTopology.Settings settings, RewardModelSwapper swapper) {
        this.settings = settings;
        this.swapper = swapper;
        this.valueSerializer = settings.topics().generations().valueSerializer();
        this.valueDeserializer = settings.topics().generations().valueDeserializer();
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
        this.buffer = context.getStateStore(ScoringTopology.BUFFER_STORE);
        this.stats = context.getStateStore(ScoringTopology.STATS_STORE);
        this.rmVersions = context.getStateStore(ScoringTopology.RM_VERSIONS_STORE);
        // After a restart the buffer holds what the last committed transaction left: count it and continue the
        // sequence after its last entry, so input order is kept across the restart.
        nextSeq = 0;
        buffered = 0;
        try (KeyValueIterator<Long, byte[]> it = buffer.all()) {
            while (it.hasNext()) {
                KeyValue<Long, byte[]> kv = it.next();
                nextSeq = Math.max(nextSeq, kv.key + 1);
                buffered++;
                oldestEnqueuedMs = Math.min(oldestEnqueuedMs, BufferedRecord.decode(kv.value).enqueuedAtMs());
            }
        }
        if (buffered > 0) {
            LOG.info("task {}: {} generation(s) restored in the micro-batch buffer", context.taskId(), buffered);
        }
        var meters = settings.deadLetters().registry();
        scoredCounter = Counter.builder("rlhf.scoring.records").description("Generations scored")
                .register(meters);
        batchCounter = Counter.builder("rlhf.scoring.batches").description("Micro-batches scored").register(meters);
        batchSizes = DistributionSummary.builder("rlhf.scoring.batch.size").description("Records per micro-batch")
                .register(meters);
        ensembleTime = Timer.builder("rlhf.scoring.ensemble.time")
                .description("Time the ensemble spends scoring micro-batches").register(meters);
        long tick = Math.max(5, settings.maxWait().toMillis() / 2);
        context.schedule(Duration.ofMillis(tick), PunctuationType.WALL_CLOCK_TIME, now -> {
            if (buffered > 0 && now - oldestEnqueuedMs >= settings.maxWait().toMillis()) {
                flush("time");
            }
        });
    }

    @Override
    public void process(Record<String, Generation> record) {
        Optional<RecordMetadata> meta = context.recordMetadata();
        String topic = meta.map(RecordMetadata::topic).orElse(settings.topics().generations().name());
        byte[] value = valueSerializer.serialize(topic, record.value());
        // Streams caches wall-clock time per loop iteration, so right after a long flush the cached time is older
        // than the flush's end; without this correction the next batch would look old at once and flush early.
        long now = Math.max(context.currentSystemTimeMs(), lastFlushEndMs);
        BufferedRecord entry = new BufferedRecord(record.key(), value, record.timestamp(), topic,
                meta.map(RecordMetadata::partition).orElse(-1), meta.map(RecordMetadata::offset).orElse(-1L), now);
        buffer.put(nextSeq++, entry.encode());
        buffered++;
        oldestEnqueuedMs = Math.min(oldestEnqueuedMs, now);
        if (buffered >= settings.batchSize()) {
            flush("size");
        }
    }

    private void flush(String trigger) {
        List<Long> seqs = new ArrayList<>(buffered);
        List<BufferedRecord> entries = new ArrayList<>(buffered);
        try (KeyValueIterator<Long, byte[]> it = buffer.all()) {
            while (it.hasNext()) {
                KeyValue<Long, byte[]> kv = it.next();
                seqs.add(kv.key);
                entries.add(BufferedRecord.decode(kv.value));
            }
        }
        if (entries.isEmpty()) {
            buffered = 0;
            oldestEnqueuedMs = Long.MAX_VALUE;
            return;
        }
        applyPublishedModels();
        List<ScoringInput> inputs = new ArrayList<>(entries.size());
        List<Generation> generations = new ArrayList<>(entries.size());
        for (BufferedRecord e : entries) {
            Generation g = valueDeserializer.deserialize(e.topic(), e.value());
            generations.add(g);
            inputs.add(ScoringInput.of(g));
        }
        NormalizationState state = loadStats();
        long scoringStart = System.nanoTime();
        List<ScoringOutcome> outcomes = settings.ensemble().score(inputs, state);
        ensembleTime.record(System.nanoTime() - scoringStart, TimeUnit.NANOSECONDS);
        long scoredAt = context.currentSystemTimeMs();
        for (int i = 0; i < outcomes.size(); i++) {
            ScoringOutcome outcome = outcomes.get(i);
            BufferedRecord e = entries.get(i);
            if (outcome.scored()) {
                List<io.streamrlhf.schemas.avro.SourceScore> scores = new ArrayList<>();
                for (SourceResult r : outcome.score().scores()) {
                    scores.add(r.toAvro());
                }
                ScoredGeneration scored = ScoredGeneration.newBuilder()
                        .setGeneration(generations.get(i))
                        .setScores(scores)
                        .setEnsembleMean(outcome.score().mean())
                        .setEnsembleStd(outcome.score().std())
                        .setEnsembleMin(outcome.score().min())
                        .setAggregation(outcome.score().aggregation().wireName())
                        .setReward(outcome.score().reward())
                        .setScoredAt(Instant.ofEpochMilli(scoredAt))
                        .build();
                context.forward(new Record<Object, Object>(e.key(), scored, e.timestamp(), normHeaders(state)),
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
        saveStats(state);
        for (Long seq : seqs) {
            buffer.delete(seq);
        }
        scoredCounter.increment(outcomes.stream().filter(ScoringOutcome::scored).count());
        batchCounter.increment();
        batchSizes.record(entries.size());
        LOG.debug("task {}: scored a batch of {} ({} trigger)", context.taskId(), entries.size(), trigger);
        buffered = 0;
        oldestEnqueuedMs = Long.MAX_VALUE;
        lastFlushEndMs = scoredAt + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - scoringStart);
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

    private NormalizationState loadStats() {
        Map<String, RunningStats> values = new HashMap<>();
        for (RewardSource source : settings.ensemble().sources()) {
            byte[] b = stats.get(source.name());
            if (b != null) {
                values.put(source.name(), RunningStats.fromBytes(b));
            }
        }
        byte[] v = stats.get(VERSION_KEY);
        return new NormalizationState(values, v == null ? 0 : ByteBuffer.wrap(v).getLong());
    }

    private void saveStats(NormalizationState state) {
        state.all().forEach((name, s) -> stats.put(name, s.toBytes()));
        stats.put(VERSION_KEY, ByteBuffer.allocate(Long.BYTES).putLong(state.version()).array());
    }

    private static Headers normHeaders(NormalizationState state) {
        Headers headers = new RecordHeaders();
        headers.add(NORM_VERSION_HEADER, Long.toString(state.version()).getBytes(StandardCharsets.UTF_8));
        state.all().forEach((name, s) -> headers.add(NORM_COUNT_HEADER_PREFIX + name,
                Long.toString(s.count()).getBytes(StandardCharsets.UTF_8)));
        return headers;
    }
}
