package io.streamrlhf.cli.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.learner.bench.LearnerBench;
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
 * {@code rlhf bench learner}: one PPO-max update of the learner ({@link io.streamrlhf.learner.ppo.PpoUpdate}, one
 * epoch, one minibatch of B sequences) on the workload of {@code shared/tools/torch-baseline/run}, whose flags these
 * mirror (as {@code rlhf bench models} does). The last line is
 * {@code {"update_seq_per_s":..., "achieved_gflops":..., "peak_gflops":..., "ratio":..., "rss_growth":..., ...}};
 * with {@code --model DIR} the policy is that Hugging Face folder's, and with {@code --baseline} the line also holds
 * {@code torch_update_seq_per_s} (the baseline's {@code ppo_sequences_per_s}) and {@code update_vs_torch}.
 */
@Command(name = "learner", mixinStandardHelpOptions = true,
        description = {
            "Benchmarks the learner's PPO-max update (sequences/s), the FLOP/s it reaches (counted as the PyTorch "
                    + "baseline counts them: policy 6NBT + 3(4LT²d)B, reference 2NBT + 4LT²dB) against a large DJL "
                    + "matrix multiply on the same threads, and RSS growth over many updates.",
            "Flags mean what they mean for shared/tools/torch-baseline/run. With --model DIR: that Hugging Face "
                    + "folder as the policy (zero value head), its reference a frozen copy.",
            "JSON keys: update_seq_per_s, achieved_gflops, peak_gflops, ratio, rss_growth, ms_per_update, n_params, "
                    + "config, ...; with --model also n_params_flops; with --baseline also torch_update_seq_per_s, "
                    + "update_vs_torch, torch_version, torch_threads, torch_command."})
public final class BenchLearnerCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--json", description = "Print only the JSON line (no progress).")
    boolean json;

    @Mixin ModelShapeOptions shape;

    @Option(names = "--rss-updates", paramLabel = "N",
            description = "Updates over which RSS growth is measured. Default: 1000; 0 with --model (an update of a "
                    + "real vocabulary takes about a second on two cores).")
    Integer rssUpdates;

    @Option(names = "--warmup-s", paramLabel = "S", defaultValue = "5",
            description = "Seconds of untimed updates before the timed ones (at least 3 updates): the JVM compiles "
                    + "the update's Java side for several seconds, on the same cores. Default: ${DEFAULT-VALUE}.")
    double warmupSeconds;

    @Override
    public Integer call() throws IOException {
        ModelBench.Config cfg;
        int rss = rssUpdates != null ? rssUpdates : shape.model != null ? 0 : 1000;
        try {
            cfg = shape.toConfig();
            if (rss < 0) {
                throw new IllegalArgumentException("--rss-updates must be >= 0, got " + rss);
            }
            if (!(warmupSeconds >= 0) || Double.isInfinite(warmupSeconds)) {
                throw new IllegalArgumentException("--warmup-s must be a number >= 0, got " + warmupSeconds);
            }
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("rlhf bench learner: " + e.getMessage());
            return 2;
        }
        PrintWriter out = spec.commandLine().getOut();
        Consumer<String> progress = BenchProgress.to(out, json);
        LearnerBench.Result result = shape.model == null ? LearnerBench.run(cfg, rss, warmupSeconds, progress)
                : LearnerBench.run(shape.model, cfg, rss, warmupSeconds, progress);
        String line = result.toJson();
        if (shape.baseline != null) {
            TorchBaseline torch = new TorchBaseline(shape.baseline);
            JsonNode theirs = torch.run(shape.model, result.config(), "ppo", progress);
            ObjectNode ours = (ObjectNode) new ObjectMapper().readTree(line);
            TorchBaseline.addTo(ours, theirs, torch.command(shape.model, result.config(), "ppo"),
                    new String[] {"ppo_sequences_per_s", "update_seq_per_s", "update_vs_torch"});
            progress.accept(String.format("  PyTorch eager: %.1f sequences/s (%.0f ms per step); ours / theirs: "
                    + "%.2fx", theirs.path("ppo_sequences_per_s").asDouble(), theirs.path("ppo_ms_per_step")
                    .asDouble(), ours.path("update_vs_torch").asDouble()));
            line = ours.toString();
        }
        out.println(line);
        out.flush();
        return 0;
    }
}
