package io.streamrlhf.rewardstream.scoring;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The running statistics of every source of an ensemble, and their version: a counter that grows by one with every
 * batch that updates them, recorded with each scored record so a reader knows which statistics normalised it. The
 * reward stream keeps this in a state store; the evaluator keeps one in memory.
 */
public final class NormalizationState {
    private final Map<String, RunningStats> stats;
    private long version;

    /** Empty statistics, version 0. */
    public NormalizationState() {
        this(new LinkedHashMap<>(), 0);
    }

    /** Statistics restored from a store. */
    public NormalizationState(Map<String, RunningStats> stats, long version) {
        this.stats = new LinkedHashMap<>(stats);
        this.version = version;
    }

    /** The statistics of {@code source} ({@link RunningStats#EMPTY} if it has none yet). */
    public RunningStats get(String source) {
        return stats.getOrDefault(source, RunningStats.EMPTY);
    }

    /** Replaces the statistics of {@code source}. */
    public void put(String source, RunningStats value) {
        stats.put(source, value);
    }

    /** Every source's statistics, read-only. */
    public Map<String, RunningStats> all() {
        return Map.copyOf(stats);
    }

    /** The number of batches that have updated these statistics. */
    public long version() {
        return version;
    }

    void bumpVersion() {
        version++;
    }
}
