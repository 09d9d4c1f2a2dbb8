package io.streamrlhf.producer.worker;

import io.micrometer.core.instrument.MeterRegistry;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.producer.swap.PolicyFollower;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workers of one process ({@code rlhf worker --workers N}): N {@link PolicyWorker}s, each with its own copy of
 * the policy, consumer and transactional producer, around one {@link PolicyFollower} that fetches and verifies
 * each new version once for all of them. Worker ids are {@code <worker.id>-<i>} when N &gt; 1.
 */
public final class WorkerPool implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);

    private final PolicyFollower follower;
    private final List<PolicyWorker> workers = new ArrayList<>();
    private final Optional<Bootstrap> bootstrap;
    private boolean closed;

    /**
     * A policy checkpoint to serve when nothing is published on {@code policy.versions} yet.
     *
     * @param checkpoint the weights
     * @param version    the version number generations carry
     */
    public record Bootstrap(Checkpoint checkpoint, long version) {
    }

    /**
     * @param settings  worker keys ({@link WorkerConfig}), topic and serde keys, and Kafka client settings, in one map
     * @param count     number of workers
     * @param bootstrap served when no version is published; empty to wait for one
     * @param meters    where every worker's and the follower's meters go
     */
    public WorkerPool(Map<String, Object> settings, int count, Optional<Bootstrap> bootstrap, MeterRegistry meters) {
        if (count < 1) {
            throw new IllegalArgumentException("--workers must be >= 1, got " + count);
        }
        WorkerConfig base = new WorkerConfig(settings);
        Topics topics = Topics.create(settings);
        this.bootstrap = bootstrap;
        this.follower = PolicyFollower.create(topics, settings, base.policyName(), meters);
        for (int i = 0; i < count; i++) {
            Map<String, Object> own = new HashMap<>(settings);
            if (count > 1) {
                own.put(WorkerConfig.WORKER_ID, base.workerId() + "-" + i);
            }
            workers.add(new PolicyWorker(new WorkerConfig(own), topics, settings, follower, meters));
        }
    }

    /** Starts the follower, offers the bootstrap checkpoint if nothing is published, then starts the workers. */
    public void start() throws InterruptedException {
        follower.start();
        if (bootstrap.isPresent()) {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!follower.caughtUp() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            if (follower.newest().isEmpty()) {
                Bootstrap b = bootstrap.get();
                LOG.info("nothing published for the policy yet; serving the bootstrap checkpoint as version {}",
                        b.version());
                follower.offer(workers.get(0).policyName(), b.version(), b.checkpoint());
            }
        }
        for (PolicyWorker w : workers) {
            w.start();
        }
    }

    /** The workers, in index order. */
    public List<PolicyWorker> workers() {
        return List.copyOf(workers);
    }

    /**
     * Adds the pool's checks: live while no worker has stopped on an error; ready when every worker is connected to
     * a broker, holds its group assignment and has its policy loaded.
     */
    public HealthChecks health(HealthChecks health) {
        return health
                .live("workers running", () -> workers.stream().noneMatch(w -> w.failure().isPresent()))
                .ready("connected", () -> workers.stream().allMatch(PolicyWorker::connected))
                .ready("assigned", () -> workers.stream().allMatch(PolicyWorker::assigned))
                .ready("model loaded", () -> workers.stream().allMatch(PolicyWorker::modelLoaded));
    }

    /** The follower shared by the workers. */
    public PolicyFollower follower() {
        return follower;
    }

    /** Blocks until every worker has stopped (after {@link #close} or on a worker's failure). */
    public void awaitTermination() throws InterruptedException {
        for (PolicyWorker w : workers) {
            while (!w.awaitTermination(Duration.ofSeconds(1))) {
                // keep waiting; close() ends them
            }
        }
    }

    /** Stops every worker (each with its grace period), then the follower. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;  // a shutdown hook and the main thread may both close
            }
            closed = true;
        }
        List<Thread> closers = new ArrayList<>();
        for (PolicyWorker w : workers) {
            Thread t = new Thread(w::close, "close-" + w.workerId());
            t.start();
            closers.add(t);
        }
        for (Thread t : closers) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        follower.close();
    }
}
