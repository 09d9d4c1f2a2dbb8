package io.streamrlhf.learner.app;

import io.streamrlhf.schemas.topics.Topics;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

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

    /** Runs a learner over {@code settings} in this thread, with a shutdown hook that stops it. */
    public static void run(Map<String, Object> settings) {
        LearnerConfig config = new LearnerConfig(settings);
        Topics topics = Topics.create(settings);
        try (LearnerService learner = new LearnerService(config, topics, settings)) {
            Thread main = Thread.currentThread();
            Thread hook = new Thread(() -> {
                learner.stop();
                try {
                    main.join(60_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "learner-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            learner.run();
        }
    }
}
