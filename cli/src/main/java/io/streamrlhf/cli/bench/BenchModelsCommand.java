package io.streamrlhf.cli.bench;

import io.streamrlhf.models.bench.ModelBench;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
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

    @Option(names = "--vocab", paramLabel = "N", description = "Vocabulary size. Default: the synthetic world's.")
    Integer vocab;

    @Option(names = "--d-model", paramLabel = "N", description = "Model width. Default: 128.")
    Integer dModel;

    @Option(names = "--layers", paramLabel = "N", description = "Transformer layers. Default: 2.")
    Integer layers;

    @Option(names = "--heads", paramLabel = "N", description = "Attention heads. Default: 4.")
    Integer heads;

    @Option(names = "--context", paramLabel = "N", description = "Position table size (max sequence). Default: 64.")
    Integer context;

    @Option(names = "--batch", paramLabel = "N", description = "Rows per sampling call and per update. Default: 64.")
    Integer batch;

    @Option(names = "--prompt", paramLabel = "N", description = "Prompt tokens before sampling. Default: 8.")
    Integer prompt;

    @Option(names = "--new-tokens", paramLabel = "N", description = "Sampled tokens per row. Default: 32.")
    Integer newTokens;

    @Option(names = "--threads", paramLabel = "N", description = "PyTorch intra-op threads. Default: all cores.")
    Integer threads;

    @Option(names = "--seconds", paramLabel = "S", description = "Measuring time per figure. Default: 5.")
    Double seconds;

    @Option(names = "--seed", paramLabel = "S", description = "Seed for weights, prompts and draws. Default: 0.")
    Long seed;

    @Override
    public Integer call() {
        ModelBench.Config d = ModelBench.Config.defaults();
        ModelBench.Config cfg;
        try {
            cfg = new ModelBench.Config(or(vocab, d.vocab()), or(dModel, d.dModel()), or(layers, d.layers()),
                    or(heads, d.heads()), or(context, d.context()), or(batch, d.batch()), or(prompt, d.prompt()),
                    or(newTokens, d.newTokens()), or(threads, d.threads()), seconds == null ? d.seconds() : seconds,
                    seed == null ? d.seed() : seed);
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

    private static int or(Integer value, int fallback) {
        return value == null ? fallback : value;
    }
}
