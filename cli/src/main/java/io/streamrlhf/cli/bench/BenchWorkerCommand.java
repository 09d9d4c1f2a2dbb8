package io.streamrlhf.cli.bench;

import io.streamrlhf.producer.bench.WorkerBench;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf bench worker}: a policy worker's generations per second through Kafka against the same sampler's
 * throughput with no Kafka, and how long a published version takes to reach the generations ({@link WorkerBench},
 * on an {@link EmbeddedBenchCluster}). Last line:
 * {@code {"generations_per_s":..., "sampling_only_per_s":..., "ratio":..., "swap_p99_ms":..., ...}}.
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = "Policy-worker throughput through Kafka vs sampling alone (goal: ratio >= 0.9), and the "
                + "version-publication-to-generation latency of hot swaps.")
public final class BenchWorkerCommand implements Callable<Integer> {

    @Option(names = "--prompts", defaultValue = "300", description = "Prompts per round and side (default ${DEFAULT-VALUE}).")
    int prompts;

    @Option(names = "--rounds", defaultValue = "3",
            description = "Alternating rounds of sampling only and through Kafka (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--warmup-s", defaultValue = "8",
            description = "Seconds of generation through Kafka, then one pass of sampling only, before the measured "
                    + "rounds; not counted (default ${DEFAULT-VALUE}).")
    double warmupSeconds;

    @Option(names = "--samples", defaultValue = "4", description = "Samples per prompt (default ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--batch", defaultValue = "32", description = "Rows per sampling call (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--max-new-tokens", defaultValue = "32", description = "Tokens per response (default ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--swaps", defaultValue = "20", description = "Versions published in the swap run (default ${DEFAULT-VALUE}).")
    int swaps;

    @Option(names = "--threads", defaultValue = "1",
            description = "PyTorch intra-op threads, 0 for all cores (default ${DEFAULT-VALUE}: on a shared, "
                    + "oversubscribed machine several intra-op threads made the sampling figures erratic).")
    int threads;

    @Option(names = "--json", description = "Print only the JSON line.")
    boolean json;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        WorkerBench.Parameters parameters = new WorkerBench.Parameters(prompts, rounds, warmupSeconds, samples, batch,
                maxNewTokens, swaps, threads);
        PrintWriter out = spec.commandLine().getOut();
        WorkerBench.Result result = WorkerBench.run(parameters, EmbeddedBenchCluster::start,
                BenchProgress.to(out, json));
        out.println(result.toJson());
        out.flush();
        return 0;
    }
}
