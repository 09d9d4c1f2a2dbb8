package io.streamrlhf.rewardstream.scoring;

/**
 * How raw scores become normalised scores (PPO-max reward normalisation, Secrets of RLHF Part I, section 5.3):
 * {@code clip((raw - mean) / sqrt(var + epsilon), -clip, clip)} with each source's running mean and variance.
 *
 * @param enabled whether to normalise; when off the normalised score equals the raw score
 * @param clip    clipping bound on the normalised score; 0 or less disables clipping
 * @param epsilon added to the variance so one observation (variance 0) gives 0, not a division by zero
 */
public record NormalizationSettings(boolean enabled, double clip, double epsilon) {

    /** Normalisation on, clipped at +-5, epsilon 1e-8 (the MOSS-RLHF defaults). */
    public static final NormalizationSettings DEFAULT = new NormalizationSettings(true, 5.0, 1e-8);
    /** Raw scores pass through. */
    public static final NormalizationSettings OFF = new NormalizationSettings(false, 0.0, 1e-8);

    /** Checks the bounds. */
    public NormalizationSettings {
        if (!(epsilon > 0)) {
            throw new IllegalArgumentException("normalisation epsilon must be > 0, got " + epsilon);
        }
        if (Double.isNaN(clip)) {
            throw new IllegalArgumentException("normalisation clip must be a number");
        }
    }

    /** The normalised value of {@code raw} under {@code stats}. */
    public double normalise(double raw, RunningStats stats) {
        if (!enabled) {
            return raw;
        }
        double z = (raw - stats.mean()) / Math.sqrt(stats.variance() + epsilon);
        return clip > 0 ? Math.max(-clip, Math.min(clip, z)) : z;
    }
}
