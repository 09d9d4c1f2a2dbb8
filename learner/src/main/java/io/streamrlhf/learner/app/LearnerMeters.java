package io.streamrlhf.learner.app;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;

/**
 * The learner's meters: updates, the version published, leadership, checkpoint write time, dead letters, the
 * staleness of every trained sample (a histogram, in policy versions), and one gauge per figure of the last update
 * under cleanrl's names: {@code losses/approx_kl} is {@code rlhf.learner.losses.approx_kl}, exported as
 * {@code rlhf_learner_losses_approx_kl}; a name ending in {@code _s} is in seconds and ends in {@code _seconds}.
 */
final class LearnerMeters {

    private static final Pattern STAT = Pattern.compile("[a-z][a-z0-9_]*/[a-z][a-z0-9_]*");
    /** Staleness buckets in policy versions (whole numbers: 0.5 holds the fresh ones), one per version up to 8. */
    private static final double[] STALENESS_BUCKETS = {0.5, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 32, 64};

    private final MeterRegistry meters;
    private final Counter updates;
    private final Timer checkpointWrite;
    private final DistributionSummary staleness;
    private final AtomicLong published = new AtomicLong(-1);
    private final Map<String, AtomicDouble> stats = new ConcurrentHashMap<>();
    /** Whether the learner leads; held here because Micrometer holds a gauge's object weakly. */
    private final BooleanSupplier leader;

    /** A double a gauge reads (Micrometer holds the gauge's object weakly: this map keeps it). */
    private static final class AtomicDouble {
        private volatile double value = Double.NaN;
    }

    LearnerMeters(MeterRegistry meters, String policy, BooleanSupplier leader) {
        this.meters = meters;
        this.leader = leader;
        this.updates = Counter.builder("rlhf.learner.updates").tag("policy", policy)
                .description("PPO updates completed").register(meters);
        this.checkpointWrite = Timer.builder("rlhf.learner.checkpoint.write").tag("policy", policy)
                .description("Writing one checkpoint (ledger segment, files, manifest, rename)").register(meters);
        this.staleness = DistributionSummary.builder("rlhf.learner.staleness").tag("policy", policy)
                .baseUnit("versions")
                .serviceLevelObjectives(STALENESS_BUCKETS)
                .description("Policy versions between the version a sample was generated with and the one it "
                        + "trains").register(meters);
        Gauge.builder("rlhf.learner.policy.version.published", published, AtomicLong::get).tag("policy", policy)
                .description("The newest policy version this learner published (-1: none yet)").register(meters);
        Gauge.builder("rlhf.learner.leader", this, m -> m.leader.getAsBoolean() ? 1 : 0).tag("policy", policy)
                .description("1 while this learner holds the lease and trains; 0 standing by").register(meters);
    }

    /** One update ended with {@code figures} (cleanrl's names). */
    void updated(Map<String, Double> figures) {
        updates.increment();
        figures.forEach((name, value) -> {
            if (STAT.matcher(name).matches()) {
                stat(name).value = value;
            }
        });
    }

    /** A sample generated at {@code generatedWith} trained at {@code trainedAt}. */
    void trained(long generatedWith, long trainedAt) {
        staleness.record(Math.max(0, trainedAt - generatedWith));
    }

    void checkpointWritten(long nanos) {
        checkpointWrite.record(nanos, TimeUnit.NANOSECONDS);
    }

    void published(long version) {
        published.accumulateAndGet(version, Math::max);
    }

    /** A scored record went to the dead-letter topic (the counter every stage's dead letters share). */
    void deadLettered(String topic, Throwable error) {
        Counter.builder("rlhf.dlq.records").description("Records sent to a dead-letter topic").tag("topic", topic)
                .tag("error", error.getClass().getSimpleName()).register(meters).increment();
    }

    /** The meter name of an update's figure: {@code time/update_s} is {@code rlhf.learner.time.update_seconds}. */
    static String meterName(String figure) {
        String name = figure.toLowerCase(Locale.ROOT).replace('/', '.');
        if (name.endsWith("_s")) {
            name = name.substring(0, name.length() - 2) + "_seconds";
        }
        return "rlhf.learner." + name;
    }

    private AtomicDouble stat(String name) {
        return stats.computeIfAbsent(name, n -> {
            AtomicDouble holder = new AtomicDouble();
            Gauge.builder(meterName(n), holder, h -> h.value).description("The last update's " + n).register(meters);
            return holder;
        });
    }
}
