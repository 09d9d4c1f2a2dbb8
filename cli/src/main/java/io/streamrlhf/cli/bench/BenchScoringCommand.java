package io.streamrlhf.cli.bench;

import io.streamrlhf.rewardstream.bench.ScoringBench;
import io.streamrlhf.schemas.bench.BenchCluster;
import java.io.PrintWriter;
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
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf bench scoring}: the reward stream's throughput against the same ensemble's batched throughput
 * in-process, same batch size, same run ({@link ScoringBench}, the stream part on an {@link EmbeddedBenchCluster}).
 * Last line:
 * {@code {"stream_records_per_s":..., "raw_records_per_s":..., "ratio":..., "batch":..., "sources":[...],
 * "stream_mean_batch":..., "torch_threads":..., "pipeline":..., "commit_interval_ms":..., "raw_cpu_ms_per_record":...,
 * "stream_cpu_ms_per_record":..., "raw_jit_ms_per_s":..., "stream_jit_ms_per_s":..., "reward":"SPECS",
 * "local_reward_server":..., "server_delay_ms":..., "goal_ratio":0.9, "goal_met":...}}. With
 * {@code --compare-plaintext} one such line per run (plaintext, secure, secure, plaintext), then the means in
 * {@code {"plaintext_stream_records_per_s":..., "secure_stream_records_per_s":..., ..., "ratio":...}}.
 */
@Command(name = "scoring", mixinStandardHelpOptions = true,
        description = "Reward-stream throughput vs in-process batched scoring of the same ensemble (goal: ratio >= 0.9).")
public final class BenchScoringCommand implements Callable<Integer> {

    @Option(names = "--records", defaultValue = "30000", description = "Generations to score (default ${DEFAULT-VALUE}).")
    int records;

    @Option(names = "--warmup", defaultValue = "15000",
            description = "Records not timed while the code paths warm up (the JIT compiles Kafka's broker, client "
                    + "and Streams code for the first 12,000 or so records and takes a third of two cores "
                    + "meanwhile; the JSON's stream_jit_ms_per_s shows what is left in the timed part); the "
                    + "in-process run likewise scores this many untimed first (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--batch", defaultValue = "32", description = "Micro-batch size B (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--sources", paramLabel = "SPECS",
            description = "The ensemble as reward specs; default: a built-in transformer reward model "
                    + "(d=128, 2 layers, context 64, random weights) and rule:length.")
    String sources;

    @Option(names = "--reward", paramLabel = "SPECS",
            description = "The ensemble as reward specs, as --sources, and also 'http:local': a reward server on "
                    + "loopback that this run starts (it scores by length), e.g. --reward embed:DIR (from 'rlhf "
                    + "train-rm --encoder minilm --out DIR'), --reward http://HOST/score or --reward 'http:local;"
                    + "batch=32'.")
    String reward;

    @Option(names = "--server-delay-ms", defaultValue = "0",
            description = "With --reward http:local: the local server answers each request after this many ms, as a "
                    + "model would (default ${DEFAULT-VALUE}).")
    long serverDelayMs;

    @Option(names = "--max-wait-ms", defaultValue = "200",
            description = "The stream's batch time limit T in ms (default ${DEFAULT-VALUE}, the app's default).")
    long maxWaitMs;

    @Option(names = "--commit-interval-ms", defaultValue = "100",
            description = "The stream's commit.interval.ms (default ${DEFAULT-VALUE}, Kafka Streams' default under "
                    + "exactly-once): every commit ends a transaction.")
    long commitIntervalMs;

    @Option(names = "--torch-threads", defaultValue = "1",
            description = "PyTorch intra-op threads for both measurements (default ${DEFAULT-VALUE}; 0: PyTorch's "
                    + "default, one per core). Ignored when -Dai.djl.pytorch.num_threads is given.")
    int torchThreads;

    @Option(names = "--no-pipeline",
            description = "Score on the stream thread (scoring.pipeline=false) instead of on a scorer thread while "
                    + "the stream thread reads the next batch.")
    boolean noPipeline;

    @Option(names = "--json", description = "Print only the JSON line.")
    boolean json;

    @Mixin BenchClusterOptions cluster;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (reward != null && sources != null) {
            throw new ParameterException(spec.commandLine(), "--reward and --sources both name the ensemble; give one");
        }
        ScoringBench.Parameters parameters = new ScoringBench.Parameters(records, warmup, batch,
                reward != null ? reward : sources, maxWaitMs,
                commitIntervalMs, torchThreads, !noPipeline, serverDelayMs);
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Supplier<BenchCluster>> clusters = cluster.clusters(spec);
        Map<String, List<Map<String, Double>>> figures = new LinkedHashMap<>();
        for (String label : BenchClusterOptions.order(clusters.keySet())) {
            if (!json) {
                out.println("--- " + label + " cluster");
            }
            ScoringBench.Result result = ScoringBench.run(parameters, clusters.get(label), BenchProgress.to(out, json));
            out.println(result.toJson());
            out.flush();
            Map<String, Double> keys = new LinkedHashMap<>();
            keys.put("stream_records_per_s", result.stream().recordsPerSecond());
            keys.put("raw_records_per_s", result.rawRecordsPerSecond());
            keys.put("ratio_to_raw", result.ratio());
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
