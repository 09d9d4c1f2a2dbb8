package io.streamrlhf.learner.app;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.streamrlhf.schemas.topics.Topics;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs a {@link LearnerService} from one properties file (learner, {@code ppo.*}, topic, registry
 * and Kafka client keys together): {@code java ... LearnerMain learner.properties}. {@code rlhf learn}
 * is the usual way; this entry point serves processes started without the CLI (tests that kill
 * the learner, containers).
 */
public final class LearnerMain {

    private LearnerMain() {
    }

    /** Reads the file, runs until stopped (SIGTERM stops after the current update). */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: LearnerMain <learner.properties>");
            System.exit(2);
        }
        Properties props = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of(args[0]))) {
            props.load(r);
        }
        Map<String, Object> settings = new HashMap<>();
        props.forEach((k, v) -> settings.put((String) k, ((String) v).trim()));
        run(settings);
    }

    /** How long the shutdown hook waits for the learner to finish or abandon its update and close. */
    static final long STOP_WAIT_MS = 60_000;

    /**
     * Runs a learner over {@code settings} in this thread, with a shutdown hook that stops it.
     *
     * <p>The hook waits for the learner to be closed, not for this thread: under {@code rlhf learn} this thread goes
     * on to {@code System.exit}, which blocks while hooks run, so joining it would hold the JVM for the whole wait.
     */
    public static void run(Map<String, Object> settings) {
        run(settings, Metrics.globalRegistry, learner -> { });
    }

    /**
     * The same, with the learner's meters going to {@code meters}; {@code loaded} sees the learner once its policy is
     * loaded, before it stands by for the lease (where {@code rlhf learn} starts serving its health checks).
     */
    public static void run(Map<String, Object> settings, MeterRegistry meters, Consumer<LearnerService> loaded) {
        LearnerConfig config = new LearnerConfig(settings);
        Topics topics = Topics.create(settings);
        CountDownLatch closed = new CountDownLatch(1);
        try (LearnerService learner = new LearnerService(config, topics, settings, meters)) {
            loaded.accept(learner);
            Thread hook = new Thread(() -> {
                learner.stop();
                try {
                    closed.await(STOP_WAIT_MS, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "learner-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            learner.run();
        } finally {
            closed.countDown();
        }
    }
}
