package io.streamrlhf.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.cli.Rlhf;
import io.streamrlhf.cli.demo.DemoFlags;
import io.streamrlhf.loop.demo.DemoOptions;
import io.streamrlhf.loop.demo.DemoResult;
import io.streamrlhf.loop.demo.DemoRunner;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.ToDoubleFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf bench e2e}: the demo's loop twice with the same seed and settings, streaming and lockstep, each until
 * the mean gold reward of its newest scored generations (four learner batches, 256 by default) first reaches the same
 * target; prints the loop wall time of each. Last line:
 * {@code {"streaming_s":..., "lockstep_s":..., "ratio":..., "target_gold":...}} (a time is null when that mode did
 * not reach the target within {@code --minutes}).
 */
@Command(name = "e2e", mixinStandardHelpOptions = true,
        description = {"Streaming vs lockstep, end to end: run the demo's loop in both modes with the same seed until "
                + "the gold reward of the newest generations reaches a target; report the wall time of each.",
                "The target defaults to halfway from the SFT policy's gold to best-of-8's. Last line: "
                        + "{\"streaming_s\":..., \"lockstep_s\":..., \"ratio\":..., \"target_gold\":...}, "
                        + "plus what each loop cost (cores, update time) and ratio_floor: the lowest ratio "
                        + "lockstep's work allows on this machine's cores (docs/demo.md)."})
public final class BenchE2eCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Mixin DemoFlags flags;

    @Option(names = "--target-gold", paramLabel = "G",
            description = "Gold reward to reach (default: SFT gold + half the gap to best-of-8).")
    Double targetGold;

    @Option(names = "--warmup-s", paramLabel = "S", defaultValue = "120",
            description = "Seconds of an untimed streaming loop first, so that neither timed run pays for the JVM's "
                    + "just-in-time compilation (about half a core for the first minute, still compiling after "
                    + "45 s); 0 skips it. Default: ${DEFAULT-VALUE}.")
    int warmupSeconds;

    @Option(names = "--repeats", paramLabel = "N", defaultValue = "1",
            description = "Streaming and lockstep runs of each mode after the one warm-up, alternating which goes "
                    + "first; the JSON then gives medians, plus every run's seconds and ratio. A single run's ratio "
                    + "is mostly noise (docs/demo.md). Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--json", description = "Print only the JSON line on stdout.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (warmupSeconds < 0) {
            throw new ParameterException(spec.commandLine(), "--warmup-s must be >= 0, got " + warmupSeconds);
        }
        if (repeats < 1) {
            throw new ParameterException(spec.commandLine(), "--repeats must be >= 1, got " + repeats);
        }
        DemoOptions base;
        try {
            base = flags.apply(DemoOptions.defaults().toBuilder()).reportDir(null).build();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        DemoRunner.quietServiceLogs();
        double target;
        if (targetGold != null) {
            target = targetGold;
        } else {
            double[] gold = DemoRunner.baselineGold(base, err);
            target = gold[0] + 0.5 * (gold[1] - gold[0]);
            err.printf(Locale.ROOT, "bench e2e: SFT gold %.3f, best-of-8 %.3f -> target gold %.3f%n", gold[0], gold[1],
                    target);
        }
        if (warmupSeconds > 0) {
            // The first loop in a fresh JVM shares the cores with the JIT compiler; without a warm-up whichever mode
            // runs first is charged for it.
            err.printf(Locale.ROOT, "bench e2e: warm-up loop (%d s, untimed)%n", warmupSeconds);
            err.flush();
            new DemoRunner(base.toBuilder().lockstep(false).stopAtGold(null)
                    .loopBudget(java.time.Duration.ofSeconds(warmupSeconds)).build(), err, false, Rlhf.class.getName())
                    .run();
        }
        List<DemoResult> streamingRuns = new ArrayList<>();
        List<DemoResult> lockstepRuns = new ArrayList<>();
        for (int r = 0; r < repeats; r++) {
            // Alternating which mode goes first cancels a machine that speeds up or slows down over the repeats.
            boolean streamingFirst = r % 2 == 0;
            for (boolean lockstep : streamingFirst ? new boolean[] {false, true} : new boolean[] {true, false}) {
                err.printf(Locale.ROOT, "bench e2e: %s run%s (up to %.1f min)%n", lockstep ? "lockstep" : "streaming",
                        repeats > 1 ? String.format(Locale.ROOT, " %d of %d", r + 1, repeats) : "",
                        base.loopBudget().toSeconds() / 60.0);
                err.flush();
                DemoResult result = new DemoRunner(base.toBuilder().lockstep(lockstep).stopAtGold(target).build(), err,
                        false, Rlhf.class.getName()).run();
                (lockstep ? lockstepRuns : streamingRuns).add(result);
            }
        }
        ObjectNode o = summary(streamingRuns, lockstepRuns, target, warmupSeconds,
                Runtime.getRuntime().availableProcessors());
        o.put("stage_nice", base.stageNice());
        o.put("backlog", base.backlogBatches());
        if (!json) {
            out.printf(Locale.ROOT, "%-10s %14s %10s %12s%n", "mode", "to target (s)", "versions", "generations");
            for (int r = 0; r < repeats; r++) {
                row(out, "streaming", streamingRuns.get(r));
                row(out, "lockstep", lockstepRuns.get(r));
            }
        }
        out.println(o.toString());
        out.flush();
        return 0;
    }

    /**
     * The JSON line. With one repeat, each figure is that run's; with more, the median over the repeats (a mode that
     * did not reach the target counts as the slowest), plus every run's seconds and ratio.
     *
     * @param cores the machine's cores, for the ratio's floor
     */
    static ObjectNode summary(List<DemoResult> streamingRuns, List<DemoResult> lockstepRuns, double target,
                              int warmupSeconds, int cores) {
        double streamingS = median(streamingRuns, r -> r.outcome().targetReachedSeconds());
        double lockstepS = median(lockstepRuns, r -> r.outcome().targetReachedSeconds());
        ObjectNode o = new ObjectMapper().createObjectNode();
        putSeconds(o, "streaming_s", streamingS);
        putSeconds(o, "lockstep_s", lockstepS);
        if (Double.isNaN(streamingS) || Double.isNaN(lockstepS)) {
            o.putNull("ratio");
        } else {
            o.put("ratio", Math.round(streamingS / lockstepS * 1000) / 1000.0);
        }
        o.put("target_gold", Math.round(target * 10_000) / 10_000.0);
        o.put("streaming_versions", medianLong(streamingRuns, r -> r.outcome().policyVersions()));
        o.put("lockstep_versions", medianLong(lockstepRuns, r -> r.outcome().policyVersions()));
        o.put("streaming_generations", medianLong(streamingRuns, r -> r.outcome().generations()));
        o.put("lockstep_generations", medianLong(lockstepRuns, r -> r.outcome().generations()));
        o.put("streaming_versions_at_target", medianLong(streamingRuns, r -> r.outcome().versionsAtTarget()));
        o.put("lockstep_versions_at_target", medianLong(lockstepRuns, r -> r.outcome().versionsAtTarget()));
        o.put("warmup_s", warmupSeconds);
        // Versions per second to the target, and what the ratio would be if both modes needed the same number of
        // versions: the versions each needs swing by ±10 between runs of the same seed (the gold of 256 generations
        // is that noisy), its rate much less. A run that never reached the target has no rate: it counts as 0.
        double streamingRate = median(streamingRuns, BenchE2eCommand::rateOrZero);
        double lockstepRate = median(lockstepRuns, BenchE2eCommand::rateOrZero);
        putRounded(o, "streaming_versions_per_s", streamingRate);
        putRounded(o, "lockstep_versions_per_s", lockstepRate);
        putRounded(o, "rate_ratio", lockstepRate / streamingRate);
        o.put("repeats", streamingRuns.size());
        // What the loops cost, and the lowest ratio that cost allows on this machine. Streaming overlaps lockstep's
        // stages; it cannot go faster than (a) doing lockstep's work per version with every core busy (approximate:
        // streaming used a little less CPU per version in the runs measured), nor (b) one update after another at
        // lockstep's update time (the learner trains one batch at a time). Both assume the same number of versions
        // to the target; the trainer's CPU is left out (it takes what the loop leaves).
        double streamingCores = median(streamingRuns, r -> r.cost().loopCores());
        double lockstepCores = median(lockstepRuns, r -> r.cost().loopCores());
        double lockstepUpdate = median(lockstepRuns, r -> r.cost().loop().updateSeconds());
        o.put("cores", cores);
        putRounded(o, "streaming_loop_cores", streamingCores);
        putRounded(o, "lockstep_loop_cores", lockstepCores);
        putRounded(o, "streaming_trainer_cores", median(streamingRuns, r -> r.cost().trainerCores()));
        putRounded(o, "lockstep_trainer_cores", median(lockstepRuns, r -> r.cost().trainerCores()));
        putRounded(o, "streaming_update_s", median(streamingRuns, r -> r.cost().loop().updateSeconds()));
        putRounded(o, "lockstep_update_s", lockstepUpdate);
        // The learner's time between updates: waiting for and batching scored records, and committing versions.
        putRounded(o, "streaming_wait_s", median(streamingRuns, r -> r.cost().loop().waitSeconds()));
        putRounded(o, "lockstep_wait_s", median(lockstepRuns, r -> r.cost().loop().waitSeconds()));
        putRounded(o, "streaming_commit_s", median(streamingRuns, r -> r.cost().loop().commitSeconds()));
        putRounded(o, "lockstep_commit_s", median(lockstepRuns, r -> r.cost().loop().commitSeconds()));
        // The loop's start-up, which both modes pay once: the first batch generated, scored and trained on.
        putRounded(o, "streaming_first_version_s", median(streamingRuns, r -> r.cost().loop().firstVersionSeconds()));
        putRounded(o, "lockstep_first_version_s", median(lockstepRuns, r -> r.cost().loop().firstVersionSeconds()));
        double floorCpu = lockstepCores / cores;
        double floorLearner = lockstepUpdate * lockstepRate;
        putRounded(o, "ratio_floor_cpu", floorCpu);
        putRounded(o, "ratio_floor_learner", floorLearner);
        putRounded(o, "ratio_floor", Math.max(floorCpu, floorLearner));
        if (streamingRuns.size() > 1) {
            ArrayNode ratios = o.putArray("ratio_all");
            ArrayNode streamingAll = o.putArray("streaming_s_all");
            ArrayNode lockstepAll = o.putArray("lockstep_s_all");
            for (int r = 0; r < streamingRuns.size(); r++) {
                double a = streamingRuns.get(r).outcome().targetReachedSeconds();
                double b = lockstepRuns.get(r).outcome().targetReachedSeconds();
                addRounded(streamingAll, a, 10);
                addRounded(lockstepAll, b, 10);
                addRounded(ratios, a / b, 1000);
            }
        }
        return o;
    }

    /** The median, NaN counted as larger than any number (a run that never reached the target is the slowest). */
    static double median(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);  // NaN sorts last
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** The median of one figure over a mode's runs. */
    private static double median(List<DemoResult> runs, ToDoubleFunction<DemoResult> figure) {
        return median(runs.stream().mapToDouble(figure).toArray());
    }

    private static long medianLong(List<DemoResult> runs, ToDoubleFunction<DemoResult> figure) {
        return Math.round(median(runs, figure));
    }

    private static void addRounded(ArrayNode array, double value, double scale) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            array.addNull();
        } else {
            array.add(Math.round(value * scale) / scale);
        }
    }

    private static void row(PrintWriter out, String mode, DemoResult r) {
        DemoResult.Outcome o = r.outcome();
        out.printf(Locale.ROOT, "%-10s %14s %10d %12d%n", mode, Double.isNaN(o.targetReachedSeconds()) ? "not reached"
                : String.format(Locale.ROOT, "%.1f", o.targetReachedSeconds()), o.policyVersions(), o.generations());
    }

    private static double rateOrZero(DemoResult r) {
        double rate = r.outcome().versionsPerSecondToTarget();
        return Double.isNaN(rate) ? 0 : rate;
    }

    private static void putRounded(ObjectNode o, String key, double value) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            o.putNull(key);
        } else {
            o.put(key, Math.round(value * 1000) / 1000.0);
        }
    }

    private static void putSeconds(ObjectNode o, String key, double seconds) {
        if (Double.isNaN(seconds)) {
            o.putNull(key);
        } else {
            o.put(key, Math.round(seconds * 10) / 10.0);
        }
    }
}
