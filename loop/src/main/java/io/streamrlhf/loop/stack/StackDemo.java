package io.streamrlhf.loop.stack;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.evaluator.live.LoopMonitor;
import io.streamrlhf.learner.app.MetricsReporter;
import io.streamrlhf.loop.supervision.LoopFailureException;
import io.streamrlhf.schemas.topics.Topics;
import io.streamrlhf.schemas.topics.TopicsConfig;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code rlhf demo --processes}: the demo run as a stack ({@link StackRunner}: every component its own OS process)
 * for the demo's budget, watched through the topics ({@link LoopMonitor}, as the in-process demo is), then stopped;
 * the summary is what the topics show: versions published, generations scored, the proxy reward of each version.
 */
public final class StackDemo {

    /** How often a progress line is printed. */
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(10);
    /** How long the stack may take to bootstrap (cluster, starting models, processes) before the budget starts. */
    private static final Duration START_TIMEOUT = Duration.ofMinutes(10);
    /** How long the stack may take to stop every process. */
    private static final Duration STOP_TIMEOUT = Duration.ofMinutes(5);

    private final StackOptions options;
    private final PrintWriter log;
    private final StackRunner runner;

    /**
     * @param options     the stack (its {@link StackOptions#demo()} holds the budget)
     * @param log         where people read progress
     * @param serviceMain the main class of the {@code rlhf} command line
     */
    public StackDemo(StackOptions options, PrintWriter log, String serviceMain) {
        this.options = options;
        this.log = log;
        this.runner = new StackRunner(options, log, serviceMain);
    }

    /** Asks a running {@link #run()} to stop the stack (from a shutdown hook). */
    public void abort() {
        runner.abort();
    }

    /** Waits until the stack stopped everything; false after {@code timeout}. */
    public boolean awaitStopped(Duration timeout) throws InterruptedException {
        return runner.awaitStopped(timeout);
    }

    /** Whether {@link #abort()} was called. */
    public boolean aborted() {
        return runner.aborted();
    }

    /**
     * Starts the stack, runs it for the demo's budget once every process runs, stops it.
     *
     * @return the summary (versions published, scored, the proxy reward of each version)
     * @throws LoopFailureException when the stack failed, or was aborted
     */
    public ObjectNode run() throws InterruptedException {
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        Thread stack = new Thread(() -> {
            try {
                runner.run();
            } catch (RuntimeException e) {
                failure.set(e);
            }
        }, "rlhf-stack");
        stack.start();
        LoopMonitor monitor = null;
        try {
            long startDeadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (!runner.running()) {
                checkAlive(stack, failure);
                if (System.nanoTime() > startDeadline) {
                    throw new LoopFailureException("the stack did not start within " + START_TIMEOUT.toMinutes()
                            + " min; see " + options.dir().resolve("logs"));
                }
                Thread.sleep(200);
            }
            StackPlan plan = runner.plan();
            // on a secure stack the monitor reads as admin: it reads every topic the audit needs
            Map<String, Object> settings = new HashMap<>(plan.admin());
            settings.put("bootstrap.servers", plan.bootstrap());
            settings.put("schema.registry.url", plan.registry());
            settings.put(TopicsConfig.PREFIX, options.topicPrefix());
            monitor = new LoopMonitor(Topics.create(settings), settings, options.demo().batchSequences(),
                    options.demo().batchSequences(), null, MetricsReporter.COMPONENT).start();
            log.printf(Locale.ROOT, "rlhf demo --processes: the stack runs for %d s (logs in %s)%n",
                    options.demo().loopBudget().toSeconds(), options.dir().toAbsolutePath().resolve("logs"));
            log.flush();
            long start = System.nanoTime();
            long nextProgress = start;
            while (System.nanoTime() - start < options.demo().loopBudget().toNanos()) {
                checkAlive(stack, failure);
                if (monitor.failure() != null) {
                    throw new LoopFailureException("reading the topics failed: " + monitor.failure().getMessage());
                }
                if (System.nanoTime() >= nextProgress) {
                    LoopMonitor.Snapshot s = monitor.snapshot();
                    log.printf(Locale.ROOT, "  %5.0fs  versions published %d, scored %d, proxy reward of the newest "
                            + "version %s%n", (System.nanoTime() - start) / 1e9, s.versionsPublished(), s.scored(),
                            newest(s));
                    log.flush();
                    nextProgress += PROGRESS_EVERY.toNanos();
                }
                Thread.sleep(200);
            }
            return summary(monitor.snapshot(), (System.nanoTime() - start) / 1e9);
        } finally {
            if (monitor != null) {
                monitor.close();
            }
            runner.abort();
            if (!runner.awaitStopped(STOP_TIMEOUT)) {
                log.println("rlhf demo --processes: the stack did not stop within " + STOP_TIMEOUT.toMinutes()
                        + " min");
                log.flush();
            }
        }
    }

    private void checkAlive(Thread stack, AtomicReference<RuntimeException> failure) {
        if (runner.aborted()) {
            throw new LoopFailureException("interrupted");
        }
        if (!stack.isAlive()) {
            RuntimeException e = failure.get();
            throw e != null ? e : new LoopFailureException("the stack stopped before the budget was spent");
        }
    }

    private static String newest(LoopMonitor.Snapshot s) {
        if (s.versions().isEmpty()) {
            return "-";
        }
        LoopMonitor.VersionPoint v = s.versions().get(s.versions().size() - 1);
        return String.format(Locale.ROOT, "v%d %.4f over %d", v.version(), v.rawProxy(), v.count());
    }

    private ObjectNode summary(LoopMonitor.Snapshot s, double seconds) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("mode", "processes");
        o.put("dir", options.dir().toAbsolutePath().toString());
        o.put("seconds", Math.round(seconds * 10) / 10.0);
        o.put("versions_published", s.versionsPublished());
        o.put("newest_policy", s.newestPolicy());
        o.put("newest_rm", s.newestRm());
        o.put("scored", s.scored());
        o.put("preferences", s.preferences());
        ArrayNode versions = o.putArray("versions");
        for (LoopMonitor.VersionPoint v : s.versions()) {
            versions.addObject().put("version", v.version()).put("count", v.count()).put("proxy", v.rawProxy())
                    .put("gold", v.gold()).put("tokens", v.tokens());
        }
        if (!s.versions().isEmpty()) {
            o.put("first_version_proxy", s.versions().get(0).rawProxy());
            o.put("final_proxy", s.versions().get(s.versions().size() - 1).rawProxy());
            o.put("final_gold", s.versions().get(s.versions().size() - 1).gold());
        }
        return o;
    }
}
