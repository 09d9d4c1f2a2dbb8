package io.streamrlhf.cli.bench;

import io.streamrlhf.producer.bench.WorkerBench;
import java.io.PrintWriter;
import io.streamrlhf.schemas.bench.BenchCluster;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf bench worker}: a policy worker's generations per second through Kafka against the same sampler's
 * throughput with no Kafka, and how long a published version takes to reach the generations ({@link WorkerBench},
 * on an {@link EmbeddedBenchCluster}). Last line:
 * {@code {"generations_per_s":..., "sampling_only_per_s":..., "ratio":..., "swap_p99_ms":..., ...}}. With
 * {@code --compare-plaintext} one such line per run (plaintext, secure, secure, plaintext), then the means in
 * {@code {"plaintext_generations_per_s":..., "secure_generations_per_s":..., ..., "ratio":...}}.
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

    @Mixin BenchClusterOptions cluster;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        WorkerBench.Parameters parameters = new WorkerBench.Parameters(prompts, rounds, warmupSeconds, samples, batch,
                maxNewTokens, swaps, threads);
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Supplier<BenchCluster>> clusters = cluster.clusters(spec);
        Map<String, List<Map<String, Double>>> figures = new LinkedHashMap<>();
        for (String label : BenchClusterOptions.order(clusters.keySet())) {
            if (!json) {
                out.println("--- " + label + " cluster");
            }
            WorkerBench.Result result = WorkerBench.run(parameters, clusters.get(label), BenchProgress.to(out, json));
            out.println(result.toJson());
            out.flush();
            Map<String, Double> keys = new LinkedHashMap<>();
            keys.put("generations_per_s", result.generationsPerSecond());
            keys.put("sampling_only_per_s", result.samplingOnlyPerSecond());
            keys.put("ratio_to_sampling", result.ratio());
            figures.computeIfAbsent(label, l -> new ArrayList<>()).add(keys);
        }
        if (figures.size() == 2) {
            out.println(BenchClusterOptions.comparison(BenchClusterOptions.mean(figures.get("plaintext")),
                    BenchClusterOptions.mean(figures.get("secure"))));
            out.flush();
        }
        return 0;
    }
}
