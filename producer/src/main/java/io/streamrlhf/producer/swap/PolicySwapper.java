package io.streamrlhf.producer.swap;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.policy.PolicyModel;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one worker's running policy at its {@link PolicyFollower}'s newest verified version by copying the weights in
 * place. The worker calls {@link #followNewest} between batches, never inside one. A version that cannot be loaded
 * (another shape) is refused once, logged and counted, and the current one keeps serving.
 *
 * <p>Not thread-safe: calls must not overlap (a worker calls it on its sampler thread, or on its own thread while the
 * sampler is idle; the hand-over between them orders the calls).
 */
public final class PolicySwapper {
    private static final Logger LOG = LoggerFactory.getLogger(PolicySwapper.class);

    private final PolicyFollower follower;
    private final String workerId;
    private final String policyName;
    private final AtomicLong version;
    private final Timer swapTime;
    private final Counter refused;
    private long refusedVersion = -1;

    /**
     * @param follower   the follower of the policy's versions
     * @param workerId   the worker, for the log
     * @param policyName the policy, for the log
     * @param version    the version the running policy holds (−1 before it has one); advanced on each swap
     * @param swapTime   times each copy
     * @param refused    counts versions that could not be loaded
     */
    public PolicySwapper(PolicyFollower follower, String workerId, String policyName, AtomicLong version,
                         Timer swapTime, Counter refused) {
        this.follower = follower;
        this.workerId = workerId;
        this.policyName = policyName;
        this.version = version;
        this.swapTime = swapTime;
        this.refused = refused;
    }

    /** Copies the follower's newest version into {@code policy} if it is newer than the one held and not refused. */
    public void followNewest(PolicyModel policy) {
        Optional<VerifiedPolicy> newest = follower.newest();
        if (newest.isEmpty()) {
            return;
        }
        VerifiedPolicy n = newest.get();
        if (n.version() <= version.get() || n.version() == refusedVersion) {
            return;
        }
        long started = System.nanoTime();
        try {
            policy.loadWeights(n.checkpoint());
        } catch (CheckpointException e) {
            refusedVersion = n.version();
            refused.increment();
            LOG.warn("worker {} refused policy '{}' version {}: {}; still serving version {}", workerId, policyName,
                    n.version(), e.getMessage(), version.get());
            return;
        }
        swapTime.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        LOG.info("worker {} swapped policy '{}' from version {} to {} in {} ms ({} ms after publication)", workerId,
                policyName, version.get(), n.version(), (System.nanoTime() - started) / 1_000_000,
                Duration.between(n.publishedAt(), Instant.now()).toMillis());
        version.set(n.version());
    }
}
