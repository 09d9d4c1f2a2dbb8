package io.streamrlhf.rewardstream.scoring;

import java.nio.ByteBuffer;

/**
 * Running mean and variance of one source's raw scores by Welford's algorithm (numerically stable for long streams),
 * immutable so a state store can hold it as a value.
 *
 * @param count number of scores seen
 * @param mean  their mean (0 when none)
 * @param m2    sum of squared deviations from the mean
 */
public record RunningStats(long count, double mean, double m2) {

    /** Statistics of no scores. */
    public static final RunningStats EMPTY = new RunningStats(0, 0.0, 0.0);

    /** Bytes of {@link #toBytes()}. */
    public static final int BYTES = Long.BYTES + 2 * Double.BYTES;

    /** These statistics with one more score (Welford's update). */
    public RunningStats add(double x) {
        long n = count + 1;
        double delta = x - mean;
        double newMean = mean + delta / n;
        return new RunningStats(n, newMean, m2 + delta * (x - newMean));
    }

    /**
     * The statistics of both sets of scores together (Chan, Golub and LeVeque's pairwise update), as if every score
     * of {@code other} had been {@link #add added} to these; used to combine the per-partition statistics of the
     * reward stream's tasks. Exact up to rounding, and symmetric.
     */
    public RunningStats merge(RunningStats other) {
        if (other.count == 0) {
            return this;
        }
        if (count == 0) {
            return other;
        }
        long n = count + other.count;
        double delta = other.mean - mean;
        double newMean = mean + delta * ((double) other.count / n);
        double newM2 = m2 + other.m2 + delta * delta * ((double) count * other.count / n);
        return new RunningStats(n, newMean, newM2);
    }

    /** Population variance (0 with fewer than two scores). */
    public double variance() {
        return count < 2 ? 0.0 : m2 / count;
    }

    /** Population standard deviation. */
    public double std() {
        return Math.sqrt(variance());
    }

    /** A fixed-size big-endian encoding, for state stores. */
    public byte[] toBytes() {
        return ByteBuffer.allocate(BYTES).putLong(count).putDouble(mean).putDouble(m2).array();
    }

    /** Reads {@link #toBytes()}. */
    public static RunningStats fromBytes(byte[] bytes) {
        if (bytes == null || bytes.length != BYTES) {
            throw new IllegalArgumentException("RunningStats: expected " + BYTES + " bytes, got "
                    + (bytes == null ? "null" : bytes.length));
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        return new RunningStats(buffer.getLong(), buffer.getDouble(), buffer.getDouble());
    }
}
