package io.streamrlhf.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.cli.demo.DemoFlags;
import io.streamrlhf.cli.demo.DemoOptions;
import io.streamrlhf.cli.demo.DemoResult;
import io.streamrlhf.cli.demo.DemoRunner;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
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
                        + "{\"streaming_s\":..., \"lockstep_s\":..., \"ratio\":..., \"target_gold\":...}."})
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

    @Option(names = "--json", description = "Print only the JSON line on stdout.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (warmupSeconds < 0) {
            throw new ParameterException(spec.commandLine(), "--warmup-s must be >= 0, got " + warmupSeconds);
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
                    .loopBudget(java.time.Duration.ofSeconds(warmupSeconds)).build(), err, false).run();
        }
        err.printf(Locale.ROOT, "bench e2e: streaming run (up to %.1f min)%n", base.loopBudget().toSeconds() / 60.0);
        err.flush();
        DemoResult streaming = new DemoRunner(base.toBuilder().lockstep(false).stopAtGold(target).build(), err, false)
                .run();
        err.printf(Locale.ROOT, "bench e2e: lockstep run (up to %.1f min)%n", base.loopBudget().toSeconds() / 60.0);
        err.flush();
        DemoResult lockstep = new DemoRunner(base.toBuilder().lockstep(true).stopAtGold(target).build(), err, false)
                .run();
        ObjectNode o = new ObjectMapper().createObjectNode();
        putSeconds(o, "streaming_s", streaming.targetReachedSeconds());
        putSeconds(o, "lockstep_s", lockstep.targetReachedSeconds());
        if (Double.isNaN(streaming.targetReachedSeconds()) || Double.isNaN(lockstep.targetReachedSeconds())) {
            o.putNull("ratio");
        } else {
            o.put("ratio", Math.round(streaming.targetReachedSeconds() / lockstep.targetReachedSeconds() * 1000) / 1000.0);
        }
        o.put("target_gold", Math.round(target * 10_000) / 10_000.0);
        o.put("streaming_versions", streaming.policyVersions());
        o.put("lockstep_versions", lockstep.policyVersions());
        o.put("streaming_generations", streaming.generations());
        o.put("lockstep_generations", lockstep.generations());
        o.put("warmup_s", warmupSeconds);
        if (!json) {
            out.printf(Locale.ROOT, "%-10s %14s %10s %12s%n", "mode", "to target (s)", "versions", "generations");
            row(out, "streaming", streaming);
            row(out, "lockstep", lockstep);
        }
        out.println(o.toString());
        out.flush();
        return 0;
    }

    private static void row(PrintWriter out, String mode, DemoResult r) {
        out.printf(Locale.ROOT, "%-10s %14s %10d %12d%n", mode, Double.isNaN(r.targetReachedSeconds()) ? "not reached"
                : String.format(Locale.ROOT, "%.1f", r.targetReachedSeconds()), r.policyVersions(), r.generations());
    }

    private static void putSeconds(ObjectNode o, String key, double seconds) {
        if (Double.isNaN(seconds)) {
            o.putNull(key);
        } else {
            o.put(key, Math.round(seconds * 10) / 10.0);
        }
    }
}
