package io.streamrlhf.loop.bench;

import io.streamrlhf.loop.stack.StackOptions;
import io.streamrlhf.loop.stack.StackRunner;
import io.streamrlhf.loop.stack.StackState;
import io.streamrlhf.loop.stack.StackStatus;
import io.streamrlhf.loop.supervision.LoopFailureException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code rlhf bench soak}: runs the stack (every component its own process, {@link StackRunner}) for a while and
 * samples, at every interval, each process's resident memory ({@code /proc/PID/status}) and each consumer group's
 * lag ({@link StackStatus}); then says what the samples say ({@link SoakSeries}). The clock starts once every process
 * runs, so the starting models' training is not part of the run. This process, which supervises the stack, is
 * sampled too, as {@code stack}.
 */
public final class SoakBench {

    private SoakBench() {
    }

    /**
     * Runs the stack of {@code options} for {@code length}, sampling every {@code interval}.
     *
     * @param serviceMain    the main class the stack's processes run
     * @param warmupFraction the share of the run left out of the growth and lag figures
     * @param log            where the stack's own messages go
     * @param progress       where one line per sample goes
     * @throws LoopFailureException when the stack cannot start or stops by itself
     */
    public static SoakSeries.Result run(StackOptions options, String serviceMain, Duration length, Duration interval,
                                        double warmupFraction, PrintWriter log, Consumer<String> progress)
            throws InterruptedException {
        StackRunner runner = new StackRunner(options, log, serviceMain);
        RuntimeException[] failed = new RuntimeException[1];
        Thread stack = new Thread(() -> {
            try {
                runner.run();
            } catch (RuntimeException e) {
                failed[0] = e;
            }
        }, "soak-stack");
        stack.start();
        SoakSeries series = new SoakSeries();
        boolean alive = false;
        try {
            long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
            while (!runner.running()) {
                if (failed[0] != null || !stack.isAlive()) {
                    throw new LoopFailureException("the stack did not start: "
                            + (failed[0] == null ? "it stopped" : failed[0].getMessage()), failed[0]);
                }
                if (System.nanoTime() > deadline) {
                    throw new LoopFailureException("the stack did not start within 30 minutes");
                }
                Thread.sleep(500);
            }
            progress.accept("the stack runs; sampling every " + interval.toSeconds() + " s for "
                    + length.toSeconds() + " s");
            long t0 = System.nanoTime();
            long next = t0;
            while (runner.running()) {
                double at = (System.nanoTime() - t0) / 1e9;
                StackStatus status = StackStatus.of(StackState.read(options.dir()), Duration.ofSeconds(5));
                SoakSeries.Sample sample = sample(at, status);
                series.add(sample);
                alive = status.rows().stream().allMatch(StackStatus.Row::alive);
                progress.accept(describe(sample));
                if (at >= length.toSeconds()) {
                    break;
                }
                next += interval.toNanos();
                long sleep = Math.max(0, next - System.nanoTime()) / 1_000_000;
                Thread.sleep(Math.min(sleep, Math.max(0, (long) ((length.toSeconds() - at) * 1000) + 1)));
            }
            if (!runner.running()) {
                alive = false;
                progress.accept("the stack stopped by itself"
                        + (failed[0] == null ? "" : ": " + failed[0].getMessage()));
            }
        } finally {
            runner.abort();
            runner.awaitStopped(Duration.ofMinutes(5));
        }
        return series.result(warmupFraction, alive);
    }

    /** One sample of the stack whose status is {@code status}, taken {@code at} seconds into the run. */
    static SoakSeries.Sample sample(double at, StackStatus status) {
        Map<String, SoakSeries.ProcessSample> processes = new LinkedHashMap<>();
        Map<String, Long> lags = new HashMap<>();
        long self = ProcessHandle.current().pid();
        ProcessMemory.resident(self).ifPresent(r -> processes.put("stack", sample(self, r)));
        for (StackStatus.Row row : status.rows()) {
            long pid = row.process().pid();
            if (row.alive() && pid > 0) {
                ProcessMemory.resident(pid).ifPresent(r -> processes.put(row.process().name(), sample(pid, r)));
            }
            if (row.lag() != null && row.process().group() != null) {
                lags.merge(row.process().group(), row.lag(), Math::max);
            }
        }
        return new SoakSeries.Sample(at, processes, lags);
    }

    private static SoakSeries.ProcessSample sample(long pid, ProcessMemory.Resident r) {
        return new SoakSeries.ProcessSample(pid, r.rssKb(), r.anonKb(), r.fileKb());
    }

    private static String describe(SoakSeries.Sample sample) {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%6.0f s ", sample.atSeconds()));
        sample.processes().forEach((name, p) -> line.append(String.format(Locale.ROOT, " %s %.0f MiB", name,
                p.rssKb() / 1024.0)));
        List<String> groups = sample.lags().keySet().stream().sorted().toList();
        for (String g : groups) {
            line.append(" | lag ").append(g).append(' ').append(sample.lags().get(g));
        }
        return line.toString();
    }
}
