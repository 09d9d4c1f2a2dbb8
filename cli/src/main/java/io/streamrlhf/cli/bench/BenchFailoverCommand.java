package io.streamrlhf.cli.bench;

import io.streamrlhf.models.bench.DeltaBench;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.sft.SftConfig;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf bench failover}: bytes per policy version, full and as a delta, and a worker's swap latency, for the
 * demo policy and a GPT-2-shaped one ({@link DeltaBench}). The last line is
 * {@code {"takeover_s":..., "bytes_per_version":..., "delta_bytes_per_version":..., "swap_p99_ms":...,
 * "versions_lost":...}}; the takeover part (two learners on the embedded cluster, the active one killed) is not
 * measured yet, so {@code takeover_s} and {@code versions_lost} are null.
 */
@Command(name = "failover", mixinStandardHelpOptions = true,
        description = "Measures bytes per policy version (full and delta) and the worker's swap p99 for the demo policy "
                + "and a GPT-2-shaped policy (d 256, 4 layers, vocabulary 50257). Takeover timing: not yet measured.")
public final class BenchFailoverCommand implements Callable<Integer> {

    /** GPT-2's vocabulary and context with d 256, 4 layers, 4 heads. */
    static final TransformerConfig GPT2_SHAPED = new TransformerConfig(50257, 1024, 256, 4, 4);

    @Spec CommandSpec spec;

    @Option(names = "--json", description = "Print only the JSON line (no progress).")
    boolean json;

    @Option(names = "--versions", paramLabel = "N", defaultValue = "10",
            description = "Versions published per shape (at least 2). Default: ${DEFAULT-VALUE}.")
    int versions;

    @Option(names = "--steps-per-version", paramLabel = "N", defaultValue = "1",
            description = "Adam steps between versions. Default: ${DEFAULT-VALUE}.")
    int stepsPerVersion;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "1e-4",
            description = "Learning rate of the simulated Adam steps (ppo.learning.rate's default). "
                    + "Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(names = "--gpt2", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Also measure the GPT-2-shaped policy. Default: ${DEFAULT-VALUE}.")
    boolean gpt2;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public Integer call() {
        if (versions < 2 || stepsPerVersion < 1 || !(lr > 0) || Double.isInfinite(lr)) {
            spec.commandLine().getErr().println("rlhf bench failover: --versions must be >= 2, --steps-per-version "
                    + ">= 1 and --lr > 0; got " + versions + ", " + stepsPerVersion + ", " + lr);
            return 2;
        }
        PrintWriter out = spec.commandLine().getOut();
        ModelRuntime.init(Math.max(1, Runtime.getRuntime().availableProcessors()));
        java.util.function.Consumer<String> progress = json ? line -> { } : line -> {
            out.println(line);
            out.flush();
        };
        progress.accept("demo policy " + SftConfig.DEMO_MODEL);
        DeltaBench.Result demo = DeltaBench.run(SftConfig.DEMO_MODEL, versions, stepsPerVersion, lr, seed, progress);
        DeltaBench.Result big = null;
        if (gpt2) {
            progress.accept("GPT-2-shaped policy " + GPT2_SHAPED);
            big = DeltaBench.run(GPT2_SHAPED, Math.min(versions, 4), stepsPerVersion, lr, seed, progress);
        }
        out.println(json(demo, big));
        out.flush();
        return 0;
    }

    static String json(DeltaBench.Result demo, DeltaBench.Result gpt2) {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "{\"takeover_s\":null,"
                        + "\"bytes_per_version\":%.0f,\"delta_bytes_per_version\":%.0f,\"delta_ratio\":%.4f,"
                        + "\"swap_p99_ms\":%.2f,\"versions_lost\":null", demo.fullBytes(), demo.deltaBytes(),
                demo.ratio(), demo.swapP99Ms()));
        if (gpt2 != null) {
            s.append(String.format(Locale.ROOT, ",\"gpt2_bytes_per_version\":%.0f,\"gpt2_delta_bytes_per_version\":%.0f,"
                    + "\"gpt2_delta_ratio\":%.4f,\"gpt2_swap_p99_ms\":%.2f", gpt2.fullBytes(), gpt2.deltaBytes(),
                    gpt2.ratio(), gpt2.swapP99Ms()));
        }
        return s.append('}').toString();
    }
}
