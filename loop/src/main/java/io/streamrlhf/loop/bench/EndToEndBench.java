package io.streamrlhf.loop.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.loop.demo.DemoOptions;
import io.streamrlhf.loop.demo.DemoResult;
import io.streamrlhf.loop.demo.DemoRunner;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * Streaming against lockstep, end to end: the demo's loop in both modes with the same seed and settings, each until
 * the mean gold reward of its newest scored generations (four learner batches) first reaches the same target, and
 * what each loop cost. The target defaults to halfway from the SFT policy's gold to best-of-8's.
 *
 * <p>One untimed streaming loop runs first ({@code warmupSeconds}), so that neither timed mode pays for the JVM's
 * just-in-time compilation; then {@code repeats} runs of each mode, alternating which goes first, which cancels a
 * machine that speeds up or slows down over the repeats. {@link Result#json()} is the line {@code rlhf bench e2e}
 * prints last.
 */
public final class EndToEndBench {

    private EndToEndBench() {
    }

    /**
     * What to run.
     *
     * @param base          the demo's options both modes share (mode and stop target are set per run)
     * @param targetGold    the gold reward to reach, or null for halfway from SFT to best-of-8
     * @param warmupSeconds seconds of the untimed streaming loop first (0: none)
     * @param repeats       timed runs of each mode
     * @param serviceMain   the main class whose {@code train-rm --online} runs the reward-model trainer's JVM
     */
    public record Parameters(DemoOptions base, Double targetGold, int warmupSeconds, int repeats, String serviceMain) {

        /** Checks each field and names the one that is wrong, by its command-line flag. */
        public Parameters {
            Objects.requireNonNull(base, "base");
            Objects.requireNonNull(serviceMain, "serviceMain");
            if (warmupSeconds < 0) {
                throw new IllegalArgumentException("--warmup-s must be >= 0, got " + warmupSeconds);
            }
            if (repeats < 1) {
                throw new IllegalArgumentException("--repeats must be >= 1, got " + repeats);
            }
        }
    }

    /**
     * What the runs measured.
     *
     * @param target    the gold reward both modes ran to
     * @param streaming the streaming runs, in order
     * @param lockstep  the lockstep runs, in order
     * @param parameters what was run
     * @param cores     the machine's cores, for the ratio's floor
     */
    public record Result(double target, List<DemoResult> streaming, List<DemoResult> lockstep, Parameters parameters,
                         int cores) {

        public Result {
            streaming = List.copyOf(streaming);
            lockstep = List.copyOf(lockstep);
        }

        /** The JSON line: {@link #summary} plus the streaming settings the runs used. */
        public ObjectNode json() {
            ObjectNode o = summary(streaming, lockstep, target, parameters.warmupSeconds(), cores);
            o.put("stage_nice", parameters.base().stageNice());
            o.put("backlog", parameters.base().backlogBatches());
            return o;
        }
    }

    /**
     * Measures the target (unless given), runs the warm-up and then the timed runs.
     *
     * @param log where progress goes (stderr)
     */
    public static Result run(Parameters p, PrintWriter log) {
        DemoOptions base = p.base();
        double target;
        if (p.targetGold() != null) {
            target = p.targetGold();
        } else {
            double[] gold = DemoRunner.baselineGold(base, log);
            target = gold[0] + 0.5 * (gold[1] - gold[0]);
            log.printf(Locale.ROOT, "bench e2e: SFT gold %.3f, best-of-8 %.3f -> target gold %.3f%n", gold[0],
                    gold[1], target);
        }
        if (p.warmupSeconds() > 0) {
            // The first loop in a fresh JVM shares the cores with the JIT compiler; without a warm-up whichever mode
            // runs first is charged for it.
            log.printf(Locale.ROOT, "bench e2e: warm-up loop (%d s, untimed)%n", p.warmupSeconds());
            log.flush();
            new DemoRunner(base.toBuilder().lockstep(false).stopAtGold(null)
                    .loopBudget(Duration.ofSeconds(p.warmupSeconds())).build(), log, false, p.serviceMain()).run();
        }
        List<DemoResult> streamingRuns = new ArrayList<>();
        List<DemoResult> lockstepRuns = new ArrayList<>();
        for (int r = 0; r < p.repeats(); r++) {
            boolean streamingFirst = r % 2 == 0;
            for (boolean lockstep : streamingFirst ? new boolean[] {false, true} : new boolean[] {true, false}) {
                log.printf(Locale.ROOT, "bench e2e: %s run%s (up to %.1f min)%n", lockstep ? "lockstep" : "streaming",
                        p.repeats() > 1 ? String.format(Locale.ROOT, " %d of %d", r + 1, p.repeats()) : "",
                        base.loopBudget().toSeconds() / 60.0);
                log.flush();
                DemoResult result = new DemoRunner(base.toBuilder().lockstep(lockstep).stopAtGold(target).build(), log,
                        false, p.serviceMain()).run();
                (lockstep ? lockstepRuns : streamingRuns).add(result);
            }
        }
        return new Result(target, streamingRuns, lockstepRuns, p, Runtime.getRuntime().availableProcessors());
    }

    /**
     * The JSON line's figures. With one repeat, each figure is that run's; with more, the median over the repeats (a
     * mode that did not reach the target counts as the slowest), plus every run's seconds and ratio.
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
        double streamingRate = median(streamingRuns, EndToEndBench::rateOrZero);
        double lockstepRate = median(lockstepRuns, EndToEndBench::rateOrZero);
        putRounded(o, "streaming_versions_per_s", streamingRate);
        putRounded(o, "lockstep_versions_per_s", lockstepRate);
        putRounded(o, "rate_ratio", lockstepRate / streamingRate);
        o.put("repeats", streamingRuns.size());
        // What the loops cost, and the lowest ratio that cost allows on this machine. Streaming overlaps lockstep's
        // stages; it cannot go faster than (a) doing lockstep's work per version with every core busy (approximate:
        // streaming uses a little less CPU per version), nor (b) one update after another at lockstep's update time
        // (the learner trains one batch at a time). Both assume the same number of versions to the target; the
        // trainer's CPU is left out (it takes what the loop leaves).
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
