package io.streamrlhf.cli.bench;

import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfModelConfig;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.models.hf.TinyHfModels.BenchShape;
import io.streamrlhf.models.hf.safetensors.SafetensorsDtype;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf bench hf-folder}: writes one of the benchmark shapes ({@link BenchShape}) as a Hugging Face folder of
 * random weights, the folder {@code rlhf bench models --model DIR}, {@code rlhf bench learner --model DIR} and
 * {@code shared/tools/torch-baseline/run --hf DIR} then measure.
 */
@Command(name = "hf-folder", mixinStandardHelpOptions = true,
        description = {
            "Writes a Hugging Face causal-LM folder of random weights in one of the benchmark shapes, initialised as "
                    + "transformers initialises a model: config.json, model.safetensors (or shards and an index) and a "
                    + "character-level tokenizer (tokenizer.json, tokenizer_config.json, generation_config.json).",
            "gpt2-bench: GPT2LMHeadModel, vocab 50257, d 256, 4 layers, 4 heads, tied. qwen2-bench: "
                    + "Qwen2ForCausalLM, vocab 32000, d 256, 4 layers, 8 heads over 2 KV heads, intermediate 688, "
                    + "tied. Measure it with `rlhf bench models --model DIR` and `rlhf bench learner --model DIR`."})
public final class BenchHfFolderCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--shape", paramLabel = "NAME", required = true,
            description = "gpt2-bench or qwen2-bench.")
    String shape;

    @Option(names = "--out", paramLabel = "DIR", required = true,
            description = "The folder to write (created; model files in it replaced).")
    Path out;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
            description = "Seed of the weights; the same seed writes the same bytes. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--dtype", paramLabel = "T", defaultValue = "f32",
            description = "Dtype on disk: f32, bf16 or f16 (loaded as float32). Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Option(names = "--init", paramLabel = "KIND", defaultValue = "hf",
            description = "hf: transformers' _init_weights (N(0, 0.02²) matrices and embeddings, zero biases, unit "
                    + "norms), as make_tiny_hf.py --init hf; stress: the tests' large weights, whose tied models copy "
                    + "their input token with near certainty (log-probs near -80, subnormal after exp). "
                    + "Default: ${DEFAULT-VALUE}.")
    String init;

    @Option(names = "--shards", paramLabel = "N", defaultValue = "1",
            description = "1 for model.safetensors, more for shards and model.safetensors.index.json. "
                    + "Default: ${DEFAULT-VALUE}.")
    int shards;

    @Override
    public Integer call() throws IOException {
        BenchShape benchShape;
        SafetensorsDtype onDisk;
        TinyHfModels.Init initKind;
        try {
            benchShape = BenchShape.of(shape);
            onDisk = switch (dtype.toLowerCase(Locale.ROOT)) {
                case "f32" -> SafetensorsDtype.F32;
                case "bf16" -> SafetensorsDtype.BF16;
                case "f16" -> SafetensorsDtype.F16;
                default -> throw new IllegalArgumentException("--dtype " + dtype + ": expected f32, bf16 or f16");
            };
            initKind = switch (init.toLowerCase(Locale.ROOT)) {
                case "hf" -> TinyHfModels.Init.HF;
                case "stress" -> TinyHfModels.Init.STRESS;
                default -> throw new IllegalArgumentException("--init " + init + ": expected hf or stress");
            };
            if (shards < 1) {
                throw new IllegalArgumentException("--shards must be >= 1, got " + shards);
            }
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("rlhf bench hf-folder: " + e.getMessage());
            return 2;
        }
        ModelRuntime.init(1);
        HfModelConfig config = benchShape.config();
        TinyHfModels.write(out, config, seed, onDisk, shards, initKind);
        TinyHfModels.writeTokenizer(out, config.vocabSize());
        PrintWriter w = spec.commandLine().getOut();
        w.printf("wrote %s: %s, vocab %d, d %d, %d layers, %d heads (%s, %s init, seed %d)%n", out,
                config.architecture(), config.vocabSize(), config.hiddenSize(), config.numLayers(), config.numHeads(),
                onDisk, initKind.name().toLowerCase(Locale.ROOT), seed);
        w.flush();
        return 0;
    }
}
