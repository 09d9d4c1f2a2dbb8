package io.streamrlhf.cli.bench;

import io.streamrlhf.learner.bench.LearnerBench;
import io.streamrlhf.models.bench.ModelBench;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf bench learner}: one PPO-max update of the learner ({@link io.streamrlhf.learner.ppo.PpoUpdate}, one
 * epoch, one minibatch of B sequences) on the workload of {@code shared/tools/torch-baseline/run}, whose flags these
 * mirror (as {@code rlhf bench models} does). The last line is
 * {@code {"update_seq_per_s":..., "achieved_gflops":..., "peak_gflops":..., "ratio":..., "rss_growth":..., ...}}.
 */
@Command(name = "learner", mixinStandardHelpOptions = true,
        description = {
            "Benchmarks the learner's PPO-max update (sequences/s), the FLOP/s it reaches (counted as the PyTorch "
                    + "baseline counts them: policy 6NBT + 3(4LT²d)B, reference 2NBT + 4LT²dB) against a large DJL "
                    + "matrix multiply on the same threads, and RSS growth over many updates.",
            "Flags mean what they mean for shared/tools/torch-baseline/run."})
public final class BenchLearnerCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--json", description = "Print only the JSON line (no progress).")
    boolean json;

    @Mixin ModelShapeOptions shape;

    @Option(names = "--rss-updates", paramLabel = "N", defaultValue = "1000",
            description = "Updates over which RSS growth is measured. Default: ${DEFAULT-VALUE}.")
    int rssUpdates;

    @Option(names = "--warmup-s", paramLabel = "S", defaultValue = "5",
            description = "Seconds of untimed updates before the timed ones (at least 3 updates): the JVM compiles "
                    + "the update's Java side for several seconds, on the same cores. Default: ${DEFAULT-VALUE}.")
    double warmupSeconds;

    @Override
    public Integer call() {
        ModelBench.Config cfg;
        try {
            cfg = shape.toConfig();
            if (rssUpdates < 0) {
                throw new IllegalArgumentException("--rss-updates must be >= 0, got " + rssUpdates);
            }
            if (!(warmupSeconds >= 0) || Double.isInfinite(warmupSeconds)) {
                throw new IllegalArgumentException("--warmup-s must be a number >= 0, got " + warmupSeconds);
            }
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("rlhf bench learner: " + e.getMessage());
            return 2;
        }
        PrintWriter out = spec.commandLine().getOut();
        LearnerBench.Result result = LearnerBench.run(cfg, rssUpdates, warmupSeconds, json ? line -> { } : line -> {
            out.println(line);
            out.flush();
        });
        out.println(result.toJson());
        out.flush();
        return 0;
    }
}
