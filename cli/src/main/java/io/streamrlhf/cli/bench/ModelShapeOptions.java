package io.streamrlhf.cli.bench;

import io.streamrlhf.models.bench.ModelBench;
import picocli.CommandLine.Option;

/**
 * The model and workload flags {@code rlhf bench models} and {@code rlhf bench learner} share (a picocli mixin).
 * They mean what they mean for {@code shared/tools/torch-baseline/run}, so both sides run the same work; a flag left
 * out takes {@link ModelBench.Config#defaults()} (the demo's policy).
 */
public final class ModelShapeOptions {

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

    @Option(names = "--batch", paramLabel = "N",
            description = "Rows per sampling call and sequences per update. Default: 64.")
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

    /**
     * The benchmark configuration: given flags over the defaults.
     *
     * @throws IllegalArgumentException naming the flag's value when the combination is invalid
     */
    ModelBench.Config toConfig() {
        ModelBench.Config d = ModelBench.Config.defaults();
        return new ModelBench.Config(or(vocab, d.vocab()), or(dModel, d.dModel()), or(layers, d.layers()),
                or(heads, d.heads()), or(context, d.context()), or(batch, d.batch()), or(prompt, d.prompt()),
                or(newTokens, d.newTokens()), or(threads, d.threads()), seconds == null ? d.seconds() : seconds,
                seed == null ? d.seed() : seed);
    }

    private static int or(Integer value, int fallback) {
        return value == null ? fallback : value;
    }
}
