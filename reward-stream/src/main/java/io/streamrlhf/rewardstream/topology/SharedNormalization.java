package io.streamrlhf.rewardstream.topology;

import io.streamrlhf.rewardstream.scoring.NormalizationState;
import io.streamrlhf.rewardstream.scoring.RunningStats;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One task's part in the normalisation every task of the reward stream shares. The task keeps the running statistics
 * (Welford) of its own partition's raw scores in the changelogged store {@value ScoringTopology#STATS_STORE}, and
 * publishes them after each batch to the statistics topic, keyed by task id; a global store
 * ({@value ScoringTopology#NORM_STATS_GLOBAL_STORE}) gives every task the others' latest committed statistics. A batch
 * is normalised against its own statistics merged with the others' ({@link RunningStats#merge}), so all partitions
 * share one running mean and variance per source, while each partition's contribution stays exactly-once (it is
 * state of its own task). The combined version (batches that updated any partition's statistics) goes out in the
 * header {@value #NORM_VERSION_HEADER} and each source's combined count in {@code rlhf.norm.count.<scorer>}.
 *
 * <p>Batches in flight are normalised one after another: each starts from the own statistics its predecessor left
 * ({@link BatchStatistics}, on the scorer thread), while the store and the published statistics advance only as
 * batches are forwarded ({@link #adopt}, on the stream thread), in the transaction that writes their outputs.
 */
final class SharedNormalization {
    private static final Logger LOG = LoggerFactory.getLogger(SharedNormalization.class);

    /** Header carrying the normalisation statistics' version that normalised a scored record. */
    static final String NORM_VERSION_HEADER = "rlhf.norm.version";
    /** Prefix of the per-source observation-count headers. */
    static final String NORM_COUNT_HEADER_PREFIX = "rlhf.norm.count.";
    /** Key of this task's statistics in the statistics store. */
    static final String OWN_STATS_KEY = "own";

    private final String taskKey;
    private final KeyValueStore<String, byte[]> ownStore;
    private final KeyValueStore<String, byte[]> sharedStore;
    /** The own statistics as of the last forwarded batch (what the store holds). */
    private NormalizationState own;
    /**
     * The own statistics after the newest submitted batch. Each batch is normalised with the statistics its
     * predecessors left; batches run one after another on the single scorer thread, which reads and advances this.
     * A fresh reference per instance: a batch still running from before a re-initialisation (a task revived after
     * an error) advances its own, discarded copy, never the statistics restored here.
     */
    private final AtomicReference<NormalizationState> latest;

    /**
     * Restores the own statistics from {@code ownStore}.
     *
     * @param taskKey     this task's id, its key on the statistics topic
     * @param ownStore    the changelogged store of this task's statistics
     * @param sharedStore the global store of every task's published statistics
     */
    SharedNormalization(String taskKey, KeyValueStore<String, byte[]> ownStore,
                        KeyValueStore<String, byte[]> sharedStore) {
        this.taskKey = taskKey;
        this.ownStore = ownStore;
        this.sharedStore = sharedStore;
        byte[] ownStats = ownStore.get(OWN_STATS_KEY);
        this.own = ownStats == null ? new NormalizationState() : NormalizationState.fromBytes(ownStats);
        this.latest = new AtomicReference<>(own);
    }

    /**
     * On the stream thread, as a batch is handed to the scorer: its statistics, with the other tasks' latest
     * committed ones as they are now.
     */
    BatchStatistics nextBatch() {
        Map<String, RunningStats> merged = new HashMap<>();
        long version = 0;
        try (KeyValueIterator<String, byte[]> it = sharedStore.all()) {
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
        return new BatchStatistics(latest, merged, version);
    }

    /**
     * On the stream thread, as a batch's results are forwarded: keeps the own statistics the batch left in the store
     * and returns them for the statistics topic (published in the same transaction as the outputs they normalised,
     * so other tasks see only committed statistics); empty when the batch changed none.
     */
    Optional<byte[]> adopt(NormalizationState after) {
        if (after.version() == own.version()) {
            return Optional.empty();
        }
        own = new NormalizationState(after.all(), after.version());
        byte[] ownBytes = own.toBytes();
        ownStore.put(OWN_STATS_KEY, ownBytes);
        return Optional.of(ownBytes);
    }

    /** The headers telling which statistics normalised a record: combined version and each source's count. */
    static Headers headers(NormalizationState state) {
        Headers headers = new RecordHeaders();
        headers.add(NORM_VERSION_HEADER, Long.toString(state.combinedVersion()).getBytes(StandardCharsets.UTF_8));
        state.allCombined().forEach((name, s) -> headers.add(NORM_COUNT_HEADER_PREFIX + name,
                Long.toString(s.count()).getBytes(StandardCharsets.UTF_8)));
        return headers;
    }

    /** The statistics of one batch: the other tasks' as captured, and the own ones its predecessor leaves. */
    static final class BatchStatistics {
        private final AtomicReference<NormalizationState> chain;
        private final Map<String, RunningStats> others;
        private final long othersVersion;

        private BatchStatistics(AtomicReference<NormalizationState> chain, Map<String, RunningStats> others,
                                long othersVersion) {
            this.chain = chain;
            this.others = others;
            this.othersVersion = othersVersion;
        }

        /** On the scorer thread, when the batch starts: the own statistics so far, merged with the others'. */
        NormalizationState begin() {
            NormalizationState before = chain.get();
            return new NormalizationState(before.all(), before.version(), others, othersVersion);
        }

        /** On the scorer thread, when the batch is scored: its own statistics are where the next batch starts. */
        void end(NormalizationState state) {
            chain.set(new NormalizationState(state.all(), state.version()));
        }
    }
}
