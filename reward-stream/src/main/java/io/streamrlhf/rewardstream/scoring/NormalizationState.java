package io.streamrlhf.rewardstream.scoring;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The running statistics of every source of an ensemble, and their version: a counter that grows by one with every
 * batch that updates them, recorded with each scored record so a reader knows which statistics normalised it. The
 * reward stream keeps this in a state store; the evaluator keeps one in memory.
 *
 * <p>A state may also carry read-only statistics of <em>other</em> scorers of the same stream (the other partitions'
 * tasks of the reward stream). A batch updates only this state's own statistics ({@link #get}, {@link #put}), and is
 * normalised against the {@link #combined} statistics: own merged with the others (exactly, by
 * {@link RunningStats#merge}), so every partition normalises against one running mean and variance per source.
 */
public final class NormalizationState {
    private static final byte FORMAT = 1;

    private final Map<String, RunningStats> stats;
    private long version;
    private final Map<String, RunningStats> others;
    private final long othersVersion;

    /** Empty statistics, version 0. */
    public NormalizationState() {
        this(new LinkedHashMap<>(), 0);
    }

    /** Statistics restored from a store. */
    public NormalizationState(Map<String, RunningStats> stats, long version) {
        this(stats, version, Map.of(), 0);
    }

    /**
     * Own statistics plus the others' (read-only).
     *
     * @param stats         own statistics, updated by scoring
     * @param version       own version
     * @param others        the other scorers' statistics, already merged per source
     * @param othersVersion the sum of the other scorers' versions
     */
    public NormalizationState(Map<String, RunningStats> stats, long version, Map<String, RunningStats> others,
                              long othersVersion) {
        this.stats = new LinkedHashMap<>(stats);
        this.version = version;
        this.others = Map.copyOf(others);
        this.othersVersion = othersVersion;
    }

    /** The own statistics of {@code source} ({@link RunningStats#EMPTY} if it has none yet). */
    public RunningStats get(String source) {
        return stats.getOrDefault(source, RunningStats.EMPTY);
    }

    /** The statistics a score of {@code source} is normalised with: own merged with the others'. */
    public RunningStats combined(String source) {
        return get(source).merge(others.getOrDefault(source, RunningStats.EMPTY));
    }

    /** Replaces the own statistics of {@code source}. */
    public void put(String source, RunningStats value) {
        stats.put(source, value);
    }

    /** Every source's own statistics, read-only. */
    public Map<String, RunningStats> all() {
        return Map.copyOf(stats);
    }

    /** Every source's combined statistics (own merged with the others'), read-only. */
    public Map<String, RunningStats> allCombined() {
        Map<String, RunningStats> out = new LinkedHashMap<>();
        stats.keySet().forEach(name -> out.put(name, combined(name)));
        others.keySet().forEach(name -> out.putIfAbsent(name, combined(name)));
        return out;
    }

    /** The number of batches that have updated the own statistics. */
    public long version() {
        return version;
    }

    /** The version of the combined statistics: own batches plus the others' (grows with every update anywhere). */
    public long combinedVersion() {
        return version + othersVersion;
    }

    void bumpVersion() {
        version++;
    }

    /** The own statistics and version as bytes (the others are not included), for state stores and topics. */
    public byte[] toBytes() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 + stats.size() * 48);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            out.writeLong(version);
            out.writeInt(stats.size());
            for (Map.Entry<String, RunningStats> e : stats.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeLong(e.getValue().count());
                out.writeDouble(e.getValue().mean());
                out.writeDouble(e.getValue().m2());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Reads {@link #toBytes()} (no others). */
    public static NormalizationState fromBytes(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            byte format = in.readByte();
            if (format != FORMAT) {
                throw new IllegalArgumentException("normalisation statistics have format " + format + ", expected "
                        + FORMAT);
            }
            long version = in.readLong();
            int n = in.readInt();
            Map<String, RunningStats> stats = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                stats.put(in.readUTF(), new RunningStats(in.readLong(), in.readDouble(), in.readDouble()));
            }
            return new NormalizationState(stats, version);
        } catch (IOException e) {
            throw new IllegalArgumentException("normalisation statistics are truncated (" + bytes.length
                    + " bytes)", e);
        }
    }
}
