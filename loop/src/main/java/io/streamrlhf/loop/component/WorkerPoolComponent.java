package io.streamrlhf.loop.component;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.loop.supervision.LoopFailureException;
import io.streamrlhf.loop.supervision.SupervisedComponent;
import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.producer.worker.PolicyWorker;
import io.streamrlhf.producer.worker.WorkerPool;
import java.util.Map;
import java.util.Optional;

/** Policy workers on threads of this JVM: fails when any worker has failed; stops them all (open transactions end). */
public final class WorkerPoolComponent implements SupervisedComponent {

    private final WorkerPool pool;

    /**
     * @param settings  the workers' settings ({@code worker.*}, cluster keys)
     * @param count     workers, each with its own policy copy
     * @param bootstrap the policy served until one is published
     */
    public WorkerPoolComponent(Map<String, Object> settings, int count, Optional<WorkerPool.Bootstrap> bootstrap) {
        this(settings, count, bootstrap, new SimpleMeterRegistry());
    }

    /** The same, with the workers' meters going to {@code meters}. */
    public WorkerPoolComponent(Map<String, Object> settings, int count, Optional<WorkerPool.Bootstrap> bootstrap,
                               MeterRegistry meters) {
        this.pool = new WorkerPool(settings, count, bootstrap, meters);
    }

    /** Adds the workers' liveness and readiness checks. */
    public HealthChecks health(HealthChecks health) {
        return pool.health(health);
    }

    @Override
    public String name() {
        return "the policy workers";
    }

    @Override
    public void start() {
        try {
            pool.start();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LoopFailureException("interrupted while starting the policy workers");
        }
    }

    @Override
    public void check() {
        for (PolicyWorker w : pool.workers()) {
            Optional<Throwable> failure = w.failure();
            if (failure.isPresent()) {
                throw new LoopFailureException("policy worker " + w.workerId() + " failed: "
                        + LoopFailureException.describe(failure.get()), failure.get());
            }
        }
    }

    /** The lowest policy version any worker serves (-1 when there are none). */
    public long slowestVersion() {
        return pool.workers().stream().mapToLong(PolicyWorker::currentVersion).min().orElse(-1);
    }

    /** Generations the workers have committed. */
    public long generations() {
        return pool.workers().stream().mapToLong(PolicyWorker::generationsCommitted).sum();
    }

    @Override
    public void stop() {
        pool.close();
    }
}
