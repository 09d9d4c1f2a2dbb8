package io.streamrlhf.cli;

import io.streamrlhf.cli.demo.DemoFlags;
import io.streamrlhf.loop.chaos.ChaosReport;
import io.streamrlhf.loop.chaos.ChaosRun;
import io.streamrlhf.loop.chaos.ZombieCheck;
import io.streamrlhf.loop.demo.DemoOptions;
import io.streamrlhf.loop.demo.DemoRunner;
import io.streamrlhf.loop.stack.StackOptions;
import io.streamrlhf.loop.stack.StackRunner;
import io.streamrlhf.loop.supervision.LoopFailureException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code rlhf chaos}: the stack under random SIGKILLs of every kind of member, then an audit of its topics. */
@Command(name = "chaos", mixinStandardHelpOptions = true,
        description = {
                "Run the stack (rlhf stack up: 3 brokers, each its own process, the registry, 2 learners, 2 workers, "
                        + "2 scorers, the online reward-model trainer, the feedback server with simulated raters "
                        + "posting to it, a synthetic prompt feed) and SIGKILL its members at random times drawn from "
                        + "--seed: workers, scorers, the active learner, the standby, the reward-model trainer, the "
                        + "feedback server (feedback), the prompt feed, one broker "
                        + "at a time and the registry (an outage until it is back). The stack restarts each. Meanwhile "
                        + "a worker and a scorer are added and later removed.",
                "At the start of the kills the active learner is paused (SIGSTOP) until the other learner holds the "
                        + "lease and has published a version, then resumed (SIGCONT): the resumed zombie must publish "
                        + "nothing (no version on policy.versions repeated or out of order after it resumed, no "
                        + "'published' line in its log) and says it lost the lease.",
                "Then the prompt feed and the raters stop, the loop drains, and the topics themselves are audited "
                        + "(read_committed, no component's counters): every prompt has exactly its group size of "
                        + "generations; every generation is scored once or dead-lettered once with a reason; the "
                        + "learner's ledger holds each scored record at most once with no gap inside its offsets; "
                        + "each feedback label gives at most one preference; published versions strictly increase; "
                        + "no group is left with lag.",
                "Recovery is timed from the SIGKILL until the member is back at work (/health/ready; after the "
                        + "active learner's kill, the next version; a broker or the registry ready again; the feed "
                        + "sending again, or the feedback server storing the raters' labels again).",
                "The last line (with --json) is one JSON object: {\"kills\":..., \"kills_by_kind\":{...}, "
                        + "\"broker_kills\":..., \"registry_outages\":..., \"prompts\":..., \"lost\":0, "
                        + "\"duplicated\":0, \"stuck\":0, \"max_recovery_s\":..., \"dlq\":{...}, ..., \"zombie\":"
                        + "{\"paused_s\":..., \"takeover_s\":..., \"published_after_resume\":0, ...}, ...}. Exit "
                        + "status 1 when anything was lost, duplicated or stuck, a member did not come back, or the "
                        + "paused learner was not replaced or published once resumed.",
                "The model and loop flags of rlhf demo apply (--seed seeds the kills too; --minutes is the time "
                        + "within which the kills fall)."})
final class ChaosCommand implements Callable<Integer> {

    @Option(names = "--kills", paramLabel = "K",
            description = "How many SIGKILLs (default: 2 per minute of --minutes, and at least one per kind).")
    Integer kills;

    @Option(names = "--json", description = "Print the report as one JSON object on the last line.")
    boolean json;

    @Option(names = "--dir", paramLabel = "DIR",
            description = "The stack's directory, which must be new or empty: the audit reads every record on its "
                    + "topics (default: a new temporary directory, kept for its logs).")
    Path dir;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "2", description = "Worker processes (default "
            + "${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--scorers", paramLabel = "N", defaultValue = "2", description = "Scorer processes (default "
            + "${DEFAULT-VALUE}).")
    int scorers;

    @Option(names = "--prompt-rate", paramLabel = "PER_S", defaultValue = "2",
            description = "Synthetic prompts per second (default ${DEFAULT-VALUE}).")
    double promptRate;

    @Option(names = "--recovery-timeout", paramLabel = "SECONDS", defaultValue = "120",
            description = "How long a killed member may take to come back before it counts as not recovered "
                    + "(default ${DEFAULT-VALUE}).")
    int recoveryTimeoutS;

    @Option(names = "--drain-timeout", paramLabel = "SECONDS", defaultValue = "180",
            description = "How long the loop may take to drain once the feed stopped (default ${DEFAULT-VALUE}).")
    int drainTimeoutS;

    @Option(names = "--no-scale", description = "Do not add and remove a worker and a scorer during the run.")
    boolean noScale;

    @Option(names = "--no-pause", description = "Do not pause the active learner (SIGSTOP) until the other takes "
            + "over.")
    boolean noPause;

    @Mixin DemoFlags flags;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        DemoOptions demo;
        try {
            demo = flags.apply(DemoOptions.defaults().toBuilder()).reportDir(null).build();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        require(workers >= 2, "--workers must be >= 2 (one is killed while the other works), got " + workers);
        require(scorers >= 2, "--scorers must be >= 2 (one is killed while the other works), got " + scorers);
        require(promptRate > 0, "--prompt-rate must be > 0, got " + promptRate);
        require(recoveryTimeoutS > 0, "--recovery-timeout must be > 0, got " + recoveryTimeoutS);
        require(drainTimeoutS > 0, "--drain-timeout must be > 0, got " + drainTimeoutS);
        Duration window = demo.loopBudget();
        int killCount = kills != null ? kills : (int) Math.max(9, Math.round(window.toSeconds() / 30.0));
        require(killCount >= 1, "--kills must be >= 1, got " + killCount);
        Path stackDir = stackDir();
        // one partition more than workers or scorers, so that the one added during the run gets work
        int partitions = Math.max(workers, scorers) + (noScale ? 0 : 1);
        StackOptions options = new StackOptions(stackDir, null, null, "rlhf.", partitions, workers, scorers, 2, 1,
                demo.raterRate(), null, null, null, promptRate, 0, 0, 3, demo);
        DemoRunner.quietServiceLogs();
        err.printf("rlhf chaos: the stack in %s (logs in %s)%n", stackDir, stackDir.resolve("logs"));
        err.flush();
        StackRunner runner = new StackRunner(options, err, Rlhf.class.getName()).metricsPort(0);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread stack = new Thread(() -> {
            try {
                runner.run();
            } catch (RuntimeException e) {
                if (!runner.aborted()) {
                    failed.set(e);
                }
            }
        }, "rlhf-chaos-stack");
        Thread hook = new Thread(() -> {
            runner.abort();
            try {
                runner.awaitStopped(Duration.ofMinutes(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "rlhf-chaos-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        stack.start();
        ChaosReport report;
        try {
            report = new ChaosRun(runner, stackDir, new ChaosRun.Options(window, killCount, demo.seed(),
                    Duration.ofSeconds(recoveryTimeoutS), Duration.ofSeconds(drainTimeoutS), !noScale, !noPause), err)
                    .run();
        } catch (IllegalStateException e) {
            Throwable cause = failed.get();
            throw new LoopFailureException("rlhf chaos: " + e.getMessage()
                    + (cause == null ? "" : "; the stack failed: " + cause.getMessage()), cause == null ? e : cause);
        } finally {
            runner.abort();
            runner.awaitStopped(Duration.ofMinutes(5));
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down: the hook is running
            }
        }
        if (json) {
            out.println(report.toJson());
        } else {
            out.printf("%d kills %s, max recovery %.1f s; %d prompts audited: lost %d, duplicated %d, stuck %d; "
                            + "dlq %s%n", report.kills().size(), report.killsByKind(), report.maxRecoveryS(),
                    report.findings().prompts(), report.findings().lost(), report.findings().duplicated(),
                    report.findings().stuck(), report.findings().dlq());
            ZombieCheck z = report.zombie();
            if (z != null) {
                out.printf("paused %s for %.1f s: the other learner published %.1f s after the SIGSTOP; once resumed "
                        + "it published %d version(s)%s%n", z.learner(), z.pausedS(), z.takeoverS(),
                        z.publishedAfterResume(), z.lostLeaseLogged() ? " and said it lost the lease" : "");
            }
            report.findings().problems().stream().limit(20).forEach(p -> out.println("  " + p));
        }
        out.flush();
        return report.clean() ? 0 : 1;
    }

    private Path stackDir() throws IOException {
        if (dir == null) {
            return Files.createTempDirectory("rlhf-chaos-");
        }
        if (Files.isDirectory(dir)) {
            try (Stream<Path> entries = Files.list(dir)) {
                if (entries.findAny().isPresent()) {
                    throw new ParameterException(spec.commandLine(), "--dir " + dir + " is not empty: the audit reads "
                            + "every record on the stack's topics, so each chaos run needs a new directory");
                }
            }
        } else if (Files.exists(dir)) {
            throw new ParameterException(spec.commandLine(), "--dir " + dir + " is not a directory");
        }
        try {
            return Files.createDirectories(dir).toAbsolutePath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
    }

    private void require(boolean ok, String message) {
        if (!ok) {
            throw new ParameterException(spec.commandLine(), message);
        }
    }
}
