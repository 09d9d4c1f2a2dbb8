package io.streamrlhf.cli.bench;

import io.streamrlhf.learner.bench.LearnerBench;
import io.streamrlhf.models.bench.ModelBench;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
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

    @Option(names = "--vocab", paramLabel = "N", description = "Vocabulary size. Default: 64.")
    Integer vocab;

    @Option(names = "--d-model", paramLabel = "N", description = "Model width. Default: 128.")
    Integer dModel;

    @Option(names = "--layers", paramLabel = "N", description = "Transformer layers. Default: 2.")
    Integer layers;

    @Option(names = "--heads", paramLabel = "N", description = "Attention heads. Default: 4.")
    Integer heads;

    @Option(names = "--context", paramLabel = "N", description = "Position table size (max sequence). Default: 64.")
    Integer context;

    @Option(names = "--batch", paramLabel = "N", description = "Sequences per update. Default: 64.")
    Integer batch;

    @Option(names = "--prompt", paramLabel = "N", description = "Prompt tokens. Default: 8.")
    Integer prompt;

    @Option(names = "--new-tokens", paramLabel = "N", description = "Response tokens per sequence. Default: 32.")
    Integer newTokens;

    @Option(names = "--threads", paramLabel = "N", description = "PyTorch intra-op threads. Default: 2.")
    Integer threads;

    @Option(names = "--seconds", paramLabel = "S", description = "Measuring time per figure. Default: 5.")
    Double seconds;

    @Option(names = "--seed", paramLabel = "S", description = "Seed for weights, prompts and draws. Default: 0.")
    Long seed;

    @Option(names = "--rss-updates", paramLabel = "N", defaultValue = "1000",
            description = "Updates over which RSS growth is measured. Default: ${DEFAULT-VALUE}.")
    int rssUpdates;

    @Override
    public Integer call() {
        ModelBench.Config d = ModelBench.Config.defaults();
        ModelBench.Config cfg;
        try {
            cfg = new ModelBench.Config(or(vocab, d.vocab()), or(dModel, d.dModel()), or(layers, d.layers()),
                    or(heads, d.heads()), or(context, d.context()), or(batch, d.batch()), or(prompt, d.prompt()),
                    or(newTokens, d.newTokens()), or(threads, d.threads()), seconds == null ? d.seconds() : seconds,
                    seed == null ? d.seed() : seed);
            if (rssUpdates < 0) {
                throw new IllegalArgumentException("--rss-updates must be >= 0, got " + rssUpdates);
            }
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("rlhf bench learner: " + e.getMessage());
            return 2;
        }
        PrintWriter out = spec.commandLine().getOut();
        LearnerBench.Result result = LearnerBench.run(cfg, rssUpdates, json ? line -> { } : line -> {
            out.println(line);
            out.flush();
        });
        out.println(result.toJson());
        out.flush();
        return 0;
    }

    private static int or(Integer value, int fallback) {
        return value == null ? fallback : value;
    }
}
