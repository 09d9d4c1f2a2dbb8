package io.streamrlhf.cli.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.bench.ModelBench;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf bench models}: sampling and PPO-update throughput of the policy on DJL/PyTorch, on the
 * same work as {@code shared/tools/torch-baseline/run} (whose flags these mirror). The last line is
 * {@code {"sample_tokens_per_s":..., "train_seq_per_s":..., "max_logprob_diff":..., "forward_tokens_per_s":...,
 * "config":{...}}}; with {@code --model DIR} the policy is that Hugging Face folder's, and with {@code --baseline}
 * the line also holds {@code torch_sample_tokens_per_s}, {@code torch_train_seq_per_s}, {@code sample_vs_torch} and
 * {@code train_vs_torch}.
 */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = {
            "Benchmarks the policy: KV-cached sampling (tokens/s), one PPO update (sequences/s: policy and "
                    + "reference forward, clipped losses, KL, entropy, backward, grad-norm clip, AdamW), a "
                    + "no-gradient forward (tokens/s) and the gap between the sampler's log-probs and a training "
                    + "forward's.",
            "Flags mean what they mean for the PyTorch-eager baseline (shared/tools/torch-baseline/run). "
                    + "Without flags: the demo's policy, batch 64, prompt 8, 32 new tokens, all cores. With --model "
                    + "DIR: that Hugging Face folder (with a zero value head), sampled by the HF sampler.",
            "JSON keys: sample_tokens_per_s, train_seq_per_s, max_logprob_diff, sample_ms_per_batch, "
                    + "train_ms_per_step, forward_tokens_per_s, n_params, device, config; with --baseline also "
                    + "torch_sample_tokens_per_s, torch_train_seq_per_s, sample_vs_torch, train_vs_torch, "
                    + "torch_version, torch_threads, torch_command."})
public final class BenchModelsCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--json", description = "Print only the JSON line (no progress).")
    boolean json;

    @Mixin ModelShapeOptions shape;

    @Override
    public Integer call() throws IOException {
        ModelBench.Config cfg;
        try {
            cfg = shape.toConfig();
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("rlhf bench models: " + e.getMessage());
            return 2;
        }
        PrintWriter out = spec.commandLine().getOut();
        Consumer<String> progress = BenchProgress.to(out, json);
        ModelBench.Result result = shape.model == null ? ModelBench.run(cfg, progress)
                : ModelBench.run(shape.model, cfg, progress);
        String line = result.toJson();
        if (shape.baseline != null) {
            TorchBaseline torch = new TorchBaseline(shape.baseline);
            // the folder's shape, so that the command line printed is the one that ran
            JsonNode theirs = torch.run(shape.model, result.config(), "sample,ppo", progress);
            ObjectNode ours = (ObjectNode) new ObjectMapper().readTree(line);
            TorchBaseline.addTo(ours, theirs, torch.command(shape.model, result.config(), "sample,ppo"),
                    new String[] {"sample_tokens_per_s", "sample_tokens_per_s", "sample_vs_torch"},
                    new String[] {"ppo_sequences_per_s", "train_seq_per_s", "train_vs_torch"});
            progress.accept(String.format("  PyTorch eager: %.0f tokens/s, %.1f sequences/s; ours / theirs: %.2fx, "
                    + "%.2fx", theirs.path("sample_tokens_per_s").asDouble(),
                    theirs.path("ppo_sequences_per_s").asDouble(), ours.path("sample_vs_torch").asDouble(),
                    ours.path("train_vs_torch").asDouble()));
            line = ours.toString();
        }
        out.println(line);
        out.flush();
        return 0;
    }
}
