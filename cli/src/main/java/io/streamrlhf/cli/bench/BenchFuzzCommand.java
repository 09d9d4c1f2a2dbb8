package io.streamrlhf.cli.bench;

import io.streamrlhf.producer.bench.FuzzBench;
import io.streamrlhf.schemas.bench.BenchCluster;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf bench fuzz}: the long mode of the fuzz tests ({@link FuzzBench}) on an embedded cluster. Half the
 * inputs are damaged records on the input topics, decoded or dead-lettered; half are hostile requests to a feedback
 * server writing to the cluster. The last line is {@code {"inputs":..., "crashes":0, "hangs":0, "dlq":...,
 * "rejected_4xx":..., "accepted":..., ...}}; the exit status is 1 when anything crashed, hung or was lost.
 */
@Command(name = "fuzz", mixinStandardHelpOptions = true,
        description = "Fuzzes the input topics (damaged records: decoded or dead-lettered) and the feedback API "
                + "(malformed, hostile, huge and slow requests, 32 connections at once) on an embedded cluster; "
                + "exits 1 on any crash, hang or lost label.")
public final class BenchFuzzCommand implements Callable<Integer> {

    @Option(names = "--inputs", paramLabel = "N", defaultValue = "10000",
            description = "Inputs in all, half records and half requests. Default: ${DEFAULT-VALUE}.")
    int inputs;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "20261207",
            description = "Seed of the generators; a seed repeats a run. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--json", description = "Print only the JSON line.")
    boolean json;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (inputs < 2) {
            spec.commandLine().getErr().println("rlhf bench fuzz: --inputs must be at least 2, got " + inputs);
            return 2;
        }
        PrintWriter out = spec.commandLine().getOut();
        Consumer<String> progress = json ? line -> { } : line -> {
            out.println(line);
            out.flush();
        };
        progress.accept("starting an embedded cluster");
        FuzzBench.Result result;
        try (BenchCluster cluster = EmbeddedBenchCluster.start()) {
            result = FuzzBench.run(cluster.catalog(), inputs, seed, progress);
        }
        if (!json) {
            result.failures().forEach(f -> out.println("  " + f));
        }
        out.println(result.toJson());
        out.flush();
        return result.ok() ? 0 : 1;
    }
}
