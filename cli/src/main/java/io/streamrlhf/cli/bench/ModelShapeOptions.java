package io.streamrlhf.cli.bench;

import io.streamrlhf.models.bench.ModelBench;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The model and workload flags {@code rlhf bench models} and {@code rlhf bench learner} share (a picocli mixin).
 * They mean what they mean for {@code shared/tools/torch-baseline/run}, so both sides run the same work; a flag left
 * out takes {@link ModelBench.Config#defaults()} (the demo's policy). With {@code --model DIR} the shape comes from
 * the folder's {@code config.json}, as the baseline's {@code --hf DIR} takes it.
 */
public final class ModelShapeOptions {

    @Option(names = "--model", paramLabel = "DIR",
            description = "A Hugging Face causal-LM folder (GPT-2, Llama, Qwen2, Mistral; config.json and "
                    + "safetensors) to measure instead of the project's transformer. Its config sets the vocabulary, "
                    + "width, layers, heads and positions, so --vocab, --d-model, --layers, --heads and --context "
                    + "do not go with it. `rlhf bench hf-folder` writes the benchmark shapes.")
    Path model;

    @Option(names = "--baseline", paramLabel = "RUN",
            description = "With --model: afterwards run PyTorch eager on the same folder, batch, prompt, new tokens, "
                    + "threads, seconds and seed through this torch-baseline script "
                    + "(shared/tools/torch-baseline/run), and add its figures (torch_*) and ours over its "
                    + "(*_vs_torch) to the JSON line.")
    Path baseline;

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
     * The benchmark configuration: given flags over the defaults. With {@code --model} it is the workload only
     * (batch, prompt, new tokens, threads, seconds, seed); {@link ModelBench.Config#forFolder} puts the folder's
     * shape in.
     *
     * @throws IllegalArgumentException naming the flag's value when the combination is invalid
     */
    ModelBench.Config toConfig() {
        ModelBench.Config d = ModelBench.Config.defaults();
        if (model != null) {
            String[][] shapeFlags = {{"--vocab", str(vocab)}, {"--d-model", str(dModel)}, {"--layers", str(layers)},
                {"--heads", str(heads)}, {"--context", str(context)}};
            for (String[] flag : shapeFlags) {
                if (flag[1] != null) {
                    throw new IllegalArgumentException(flag[0] + " " + flag[1] + " does not go with --model " + model
                            + ": the folder's config.json sets the model's shape");
                }
            }
            if (!Files.isDirectory(model)) {
                throw new IllegalArgumentException("--model " + model + " is not a directory");
            }
            if (baseline != null && !Files.isExecutable(baseline)) {
                throw new IllegalArgumentException("--baseline " + baseline + " is not an executable file (expected "
                        + "shared/tools/torch-baseline/run)");
            }
            int p = or(prompt, d.prompt());
            int n = or(newTokens, d.newTokens());
            // the demo's shape stands in until forFolder replaces it; its context is whatever the workload needs
            return new ModelBench.Config(d.vocab(), d.dModel(), d.layers(), d.heads(), Math.max(1, p + n),
                    or(batch, d.batch()), p, n, or(threads, d.threads()), seconds == null ? d.seconds() : seconds,
                    seed == null ? d.seed() : seed);
        }
        if (baseline != null) {
            throw new IllegalArgumentException("--baseline needs --model (it runs PyTorch eager on a Hugging Face "
                    + "folder)");
        }
        return new ModelBench.Config(or(vocab, d.vocab()), or(dModel, d.dModel()), or(layers, d.layers()),
                or(heads, d.heads()), or(context, d.context()), or(batch, d.batch()), or(prompt, d.prompt()),
                or(newTokens, d.newTokens()), or(threads, d.threads()), seconds == null ? d.seconds() : seconds,
                seed == null ? d.seed() : seed);
    }

    private static int or(Integer value, int fallback) {
        return value == null ? fallback : value;
    }

    private static String str(Integer value) {
        return value == null ? null : value.toString();
    }
}
