package io.streamrlhf.cli.bench;

import io.streamrlhf.cli.Rlhf;
import io.streamrlhf.cli.demo.DemoFlags;
import io.streamrlhf.loop.bench.SoakBench;
import io.streamrlhf.loop.bench.SoakSeries;
import io.streamrlhf.loop.demo.DemoOptions;
import io.streamrlhf.loop.demo.DemoRunner;
import io.streamrlhf.loop.process.ChildJvm;
import io.streamrlhf.loop.stack.StackOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf bench soak}: the synthetic stack (one process per component, its own cluster) run for
 * {@code --minutes} (default 30), each process's resident memory and each consumer group's lag sampled every
 * {@code --interval-s} ({@link SoakBench}). Prints a line per sample, then a row per process, then the last line
 * {@code {"minutes":..., "processes":{NAME:{"rss_start_mb":..., "rss_end_mb":..., "growth_pct":...}},
 * "max_rss_growth_pct":..., "max_lag":..., "lag_bounded":..., "ok":...}}; the exit status is 1 when not ok.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = {"Runs the synthetic stack (every component its own process) for --minutes (default 30) and "
                + "samples each process's resident memory and each consumer group's lag every --interval-s.",
                "Reports each process's memory growth after the warm-up (the first --warmup-pct of the run) and the "
                        + "highest lag; ok when every process grew less than 5 % and no group's lag kept growing."})
public final class BenchSoakCommand implements Callable<Integer> {

    /** The run's length when {@code --minutes} (the demo flags' loop budget) is not given. */
    static final double DEFAULT_MINUTES = 30;

    @Option(names = "--interval-s", paramLabel = "S", defaultValue = "10",
            description = "Seconds between samples. Default: ${DEFAULT-VALUE}.")
    int intervalSeconds;

    @Option(names = "--warmup-pct", paramLabel = "P", defaultValue = "20",
            description = "Share of the run, in per cent, left out of growth and lag. Default: ${DEFAULT-VALUE}.")
    double warmupPct;

    @Option(names = "--prompt-rate", paramLabel = "PER_S", defaultValue = "2",
            description = "Synthetic prompts a second. Default: ${DEFAULT-VALUE}.")
    double promptRate;

    @Option(names = "--growing-heap",
            description = "Start the processes with only -Xmx, their heaps growing towards it as they fill (as "
                    + "rlhf stack up runs them). By default each starts with its whole heap committed and touched "
                    + "(-Xms = -Xmx, -XX:+AlwaysPreTouch), so what grows is memory outside the Java heap: a leak, "
                    + "rather than a heap still filling up to its bounded size.")
    boolean growingHeap;

    @Option(names = "--json", description = "Print only the JSON line on stdout.")
    boolean json;

    @Mixin DemoFlags flags;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (intervalSeconds < 1 || warmupPct < 0 || warmupPct >= 100 || !(promptRate > 0)) {
            throw new ParameterException(spec.commandLine(), "--prompt-rate must be > 0, --interval-s >= 1 and "
                    + "--warmup-pct in [0, 100); got " + promptRate + ", " + intervalSeconds + " and " + warmupPct);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path dir = Files.createTempDirectory("rlhf-bench-soak");
        StackOptions options;
        Duration length;
        try {
            DemoOptions demo = flags.apply(DemoOptions.defaults().toBuilder()).reportDir(null).build();
            // --minutes is the demo flags' loop budget: here the length of the run, 30 minutes unless given.
            length = spec.commandLine().getParseResult().hasMatchedOption("--minutes") ? demo.loopBudget()
                    : Duration.ofMillis((long) (DEFAULT_MINUTES * 60_000));
            options = new StackOptions(dir, null, null, "rlhf.", 0, 1, 1, 1, 1, demo.raterRate(), null, null, null,
                    promptRate, 0, 0, 1, demo);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        DemoRunner.quietServiceLogs();
        // Every process of the stack is a child JVM of this one (rlhf bench soak is a process of its own).
        System.setProperty(ChildJvm.FIXED_HEAP, Boolean.toString(!growingHeap));
        Consumer<String> progress = json ? line -> { } : line -> {
            out.println(line);
            out.flush();
        };
        SoakSeries.Result result;
        try {
            result = SoakBench.run(options, Rlhf.class.getName(), length, Duration.ofSeconds(intervalSeconds),
                    warmupPct / 100.0, err, progress);
        } finally {
            deleteQuietly(dir);
        }
        if (!json) {
            out.printf(Locale.ROOT, "%-12s %14s %12s %9s %12s %12s%n", "process", "RSS start MiB", "RSS end MiB",
                    "growth", "anon growth", "files MiB");
            result.processes().forEach((name, g) -> out.printf(Locale.ROOT, "%-12s %14.1f %12.1f %8.2f%% %11.2f%% "
                    + "%5.0f->%-5.0f%s%n", name, g.rssStartMb(), g.rssEndMb(), g.growthPct(), g.anonGrowthPct(),
                    g.fileStartMb(), g.fileEndMb(), g.restarted() ? " (restarted)" : ""));
        }
        out.println("{\"fixed_heap\":" + !growingHeap + ", " + result.toJson().substring(1));
        out.flush();
        return result.ok() ? 0 : 1;
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory; the system cleans it eventually
        }
    }
}
