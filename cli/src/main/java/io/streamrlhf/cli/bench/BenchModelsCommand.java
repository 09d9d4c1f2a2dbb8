package io.streamrlhf.cli.bench;

import io.streamrlhf.models.bench.ModelBench;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf bench models}: sampling and PPO-update throughput of the policy on DJL/PyTorch, on the
 * same work as {@code shared/tools/torch-baseline/run} (whose flags these mirror). The last line is
 * {@code {"sample_tokens_per_s":..., "train_seq_per_s":..., "max_logprob_diff":..., "config":{...}}}.
 */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = {
            "Benchmarks the policy: KV-cached sampling (tokens/s), one PPO update (sequences/s: policy and "
                    + "reference forward, clipped losses, KL, entropy, backward, grad-norm clip, AdamW) and the "
                    + "gap between the sampler's log-probs and a training forward's.",
            "Flags mean what they mean for the PyTorch-eager baseline (shared/tools/torch-baseline/run). "
                    + "Without flags: the demo's policy, batch 64, prompt 8, 32 new tokens, all cores."})
public final class BenchModelsCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--json", description = "Print only the JSON line (no progress).")
    boolean json;

    @Mixin ModelShapeOptions shape;

    @Override
    public Integer call() {
        ModelBench.Config cfg;
        try {
            cfg = shape.toConfig();
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("rlhf bench models: " + e.getMessage());
            return 2;
        }
        PrintWriter out = spec.commandLine().getOut();
        ModelBench.Result result = ModelBench.run(cfg, json ? line -> { } : line -> {
            out.println(line);
            out.flush();
        });
        out.println(result.toJson());
        out.flush();
        return 0;
    }
}
