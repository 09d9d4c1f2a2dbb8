package io.streamrlhf.loop.component;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.streamrlhf.learner.app.LearnerConfig;
import io.streamrlhf.learner.app.LearnerService;
import io.streamrlhf.loop.supervision.LoopFailureException;
import io.streamrlhf.loop.supervision.SupervisedComponent;
import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PPO learner on a thread of this JVM. It fails when the learner throws or its thread ends by itself; its stop asks
 * the learner to finish the current update, waits for the thread, and closes it.
 */
public final class LearnerComponent implements SupervisedComponent {

    private static final Logger LOG = LoggerFactory.getLogger(LearnerComponent.class);
    /** How long {@link #stop()} waits for the current update. */
    static final Duration STOP_WAIT = Duration.ofSeconds(60);

    private final LearnerService learner;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean stopping;

    /**
     * @param settings the learner's settings ({@code learner.*}, {@code ppo.*}, cluster keys)
     * @param topics   the catalog
     */
    public LearnerComponent(Map<String, Object> settings, Topics topics) {
        this(settings, topics, Metrics.globalRegistry);
    }

    /** The same, with the learner's meters going to {@code meters}. */
    public LearnerComponent(Map<String, Object> settings, Topics topics, MeterRegistry meters) {
        this.learner = new LearnerService(new LearnerConfig(settings), topics, settings, meters);
        this.thread = new Thread(() -> {
            try {
                learner.run();
            } catch (Throwable t) {
                failure.set(t);
                LOG.error("the PPO learner failed", t);
            }
        }, "demo-learner");
    }

    @Override
    public String name() {
        return "the PPO learner";
    }

    @Override
    public void start() {
        thread.start();
    }

    @Override
    public void check() {
        throwIfFailed();
        if (!thread.isAlive() && !stopping) {
            throw new LoopFailureException("the PPO learner stopped unexpectedly");
        }
    }

    /** Updates completed. */
    public long updates() {
        return learner.updates();
    }

    /** The newest policy version. */
    public long version() {
        return learner.version();
    }

    /**
     * Asks the learner to stop after its current update and waits up to {@code timeout} for it; the learner stays
     * open (its checkpoints readable) until {@link #stop()}.
     *
     * @throws LoopFailureException if the learner failed
     */
    public void finish(Duration timeout) {
        stopping = true;
        learner.stop();
        try {
            thread.join(timeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throwIfFailed();
    }

    private void throwIfFailed() {
        Throwable t = failure.get();
        if (t != null) {
            throw new LoopFailureException("the PPO learner failed: " + LoopFailureException.describe(t), t);
        }
    }

    @Override
    public void stop() throws InterruptedException {
        stopping = true;
        learner.stop();
        thread.join(STOP_WAIT.toMillis());
        learner.close();
    }

    /** Adds the learner's liveness and readiness checks. */
    public HealthChecks health(HealthChecks health) {
        return learner.health(health);
    }
}
