package io.streamrlhf.cli.bench;

import io.streamrlhf.cli.Rlhf;
import io.streamrlhf.cli.demo.DemoFlags;
import io.streamrlhf.loop.bench.EndToEndBench;
import io.streamrlhf.loop.demo.DemoOptions;
import io.streamrlhf.loop.demo.DemoResult;
import io.streamrlhf.loop.demo.DemoRunner;
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
 * {@code rlhf bench e2e}: parses the flags, runs {@link EndToEndBench} (the demo's loop streaming and lockstep to the
 * same gold target) and prints a row per run and the JSON line. Last line:
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
        EndToEndBench.Parameters parameters;
        try {
            DemoOptions base = flags.apply(DemoOptions.defaults().toBuilder()).reportDir(null).build();
            parameters = new EndToEndBench.Parameters(base, targetGold, warmupSeconds, repeats, Rlhf.class.getName());
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        DemoRunner.quietServiceLogs();
        EndToEndBench.Result result = EndToEndBench.run(parameters, err);
        if (!json) {
            out.printf(Locale.ROOT, "%-10s %14s %10s %12s%n", "mode", "to target (s)", "versions", "generations");
            for (int r = 0; r < repeats; r++) {
                row(out, "streaming", result.streaming().get(r));
                row(out, "lockstep", result.lockstep().get(r));
            }
        }
        out.println(result.json().toString());
        out.flush();
        return 0;
    }

    private static void row(PrintWriter out, String mode, DemoResult r) {
        DemoResult.Outcome o = r.outcome();
        out.printf(Locale.ROOT, "%-10s %14s %10d %12d%n", mode, Double.isNaN(o.targetReachedSeconds()) ? "not reached"
                : String.format(Locale.ROOT, "%.1f", o.targetReachedSeconds()), o.policyVersions(), o.generations());
    }
}
