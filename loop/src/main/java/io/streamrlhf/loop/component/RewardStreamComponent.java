package io.streamrlhf.loop.component;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.streamrlhf.loop.supervision.LoopFailureException;
import io.streamrlhf.loop.supervision.SupervisedComponent;
import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.rewardstream.app.ScoringApp;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The reward stream (Kafka Streams) on this JVM's threads: fails when its state is an error or it stopped. */
public final class RewardStreamComponent implements SupervisedComponent {

    private static final Logger LOG = LoggerFactory.getLogger(RewardStreamComponent.class);
    /** How long {@link #stop()} lets Kafka Streams close. */
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(20);

    private final ScoringApp scoring;

    /** @param settings the reward stream's settings ({@code reward.*}, {@code scoring.*}, cluster keys) */
    public RewardStreamComponent(Map<String, Object> settings) {
        this(settings, Metrics.globalRegistry);
    }

    /** The same, with the stream's meters going to {@code meters}. */
    public RewardStreamComponent(Map<String, Object> settings, MeterRegistry meters) {
        this.scoring = ScoringApp.create(settings, meters);
    }

    @Override
    public String name() {
        return "the reward stream";
    }

    @Override
    public void start() {
        scoring.start();
    }

    /**
     * Waits until Kafka Streams runs (joined its group, restored its stores).
     *
     * @throws LoopFailureException with its state if it does not within {@code timeout}
     * @throws InterruptedException if interrupted meanwhile
     */
    public void awaitRunning(Duration timeout) throws InterruptedException {
        long start = System.nanoTime();
        if (!scoring.awaitReady(timeout)) {
            throw new LoopFailureException(String.format(Locale.ROOT,
                    "the reward stream did not reach RUNNING: Kafka Streams state %s after %.0f s (its log says "
                            + "why; limit %d s)", scoring.state(), (System.nanoTime() - start) / 1e9,
                    timeout.toSeconds()));
        }
        LOG.info("reward stream running after {} ms", (System.nanoTime() - start) / 1_000_000);
    }

    @Override
    public void check() {
        KafkaStreams.State state = scoring.state();
        if (state == KafkaStreams.State.ERROR || state == KafkaStreams.State.PENDING_ERROR
                || state == KafkaStreams.State.NOT_RUNNING) {
            throw new LoopFailureException("the reward stream (Kafka Streams) stopped in state " + state
                    + "; see the log above for the stream thread's error");
        }
    }

    @Override
    public void stop() {
        scoring.close(CLOSE_TIMEOUT);
    }

    /** Adds the stream's liveness and readiness checks. */
    public HealthChecks health(HealthChecks health) {
        return scoring.health(health);
    }
}
