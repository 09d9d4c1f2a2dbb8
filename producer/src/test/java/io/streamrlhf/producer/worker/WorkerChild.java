package io.streamrlhf.producer.worker;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * One worker as a process of its own, for the ITs that kill it: {@code WorkerChild FILE} runs a {@link WorkerPool} of
 * one worker from a properties file until SIGTERM (its shutdown hook closes the pool, as {@code rlhf worker}'s does)
 * or SIGKILL (nothing closes).
 */
public final class WorkerChild {

    private WorkerChild() {
    }

    /** Runs the worker of the properties file {@code args[0]}. */
    public static void main(String[] args) throws Exception {
        Properties file = new Properties();
        try (Reader reader = Files.newBufferedReader(Path.of(args[0]))) {
            file.load(reader);
        }
        Map<String, Object> settings = new HashMap<>();
        file.forEach((k, v) -> settings.put((String) k, v));
        WorkerPool pool = new WorkerPool(settings, 1, Optional.empty(), new SimpleMeterRegistry());
        Runtime.getRuntime().addShutdownHook(new Thread(pool::close, "worker-child-shutdown"));
        pool.start();
        pool.awaitTermination();
    }
}
