package io.streamrlhf.learner.ppo;

/**
 * Running mean and variance of all scores seen so far (Chan et al.'s parallel update of Welford's
 * sums), for PPO-max's reward scaling. Its three numbers travel in checkpoints, so a restarted
 * learner scales rewards exactly as before the crash.
 */
public final class RunningMoments {

    private double count;
    private double mean;
    private double m2;

    /** Empty: std 1, mean 0 until something is added. */
    public RunningMoments() {
    }

    /** Restores saved state ({@link #state()}). */
    public RunningMoments(double[] state) {
        if (state.length != 3) {
            throw new IllegalArgumentException("RunningMoments state has " + state.length + " numbers, expected 3");
        }
        this.count = state[0];
        this.mean = state[1];
        this.m2 = state[2];
    }

    /** Adds a batch of values. */
    public void update(double[] values) {
        if (values.length == 0) {
            return;
        }
        double n = values.length;
        double batchMean = 0;
        for (double v : values) {
            batchMean += v / n;
        }
        double batchM2 = 0;
        for (double v : values) {
            batchM2 += (v - batchMean) * (v - batchMean);
        }
        double total = count + n;
        double delta = batchMean - mean;
        mean += delta * n / total;
        m2 += batchM2 + delta * delta * count * n / total;
        count = total;
    }

    /** Values seen. */
    public double count() {
        return count;
    }

    /** Mean of everything seen (0 before anything). */
    public double mean() {
        return mean;
    }

    /** Population standard deviation; 1 until two values were seen or when all were equal. */
    public double std() {
        if (count < 2) {
            return 1.0;
        }
        double std = Math.sqrt(m2 / count);
        return std > 1e-8 ? std : 1.0;
    }

    /** {count, mean, M2}, for checkpoints. */
    public double[] state() {
        return new double[] {count, mean, m2};
    }
}
