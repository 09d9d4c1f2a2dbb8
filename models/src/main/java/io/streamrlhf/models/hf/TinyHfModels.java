package io.streamrlhf.models.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.gpt2.Gpt2Config;
import io.streamrlhf.models.hf.llama.LlamaConfig;
import io.streamrlhf.models.hf.safetensors.SafetensorsDtype;
import io.streamrlhf.models.hf.safetensors.SafetensorsWriter;
import io.streamrlhf.models.transformer.SeededInitializer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes tiny random Hugging Face folders ({@code config.json} with transformers' field names and
 * {@code model.safetensors}, or shards with an index) from a seed, for tests and benchmarks: the same arguments
 * always give byte-identical files. For tests the weights are drawn large enough that every tensor changes the
 * logits ({@link Init#STRESS}: norm gains 1 + N(0, 0.1²), biases N(0, 0.1²), matrices N(0, 1/fan_in), embeddings
 * N(0, 0.3²)); for benchmarks as transformers initialises a model ({@link Init#HF}). Each tensor comes from its own
 * generator seeded by the model seed and the tensor's name.
 *
 * <p>Run from the command line: {@code TinyHfModels DIR gpt2|llama|qwen2|mistral SEED [f32|bf16|f16] [SHARDS]}.
 */
public final class TinyHfModels {

    /** The tiny shapes, one per architecture. */
    public enum Architecture {
        /** GPT-2: vocab 96, 32 positions, d 48, 2 layers, 4 heads, tied. */
        GPT2,
        /** Llama: vocab 80, d 32, 2 layers, 4 heads over 2 KV heads, intermediate 80, untied. */
        LLAMA,
        /** Qwen2: vocab 128, d 64, 2 layers, 4 heads over 2 KV heads, q/k/v biases, rope_theta 1e6, tied. */
        QWEN2,
        /** Mistral: vocab 64, d 32, 2 layers, 4 heads over 1 KV head, intermediate 64, untied. */
        MISTRAL;

        /** The config this architecture's tiny folder gets. */
        public HfModelConfig config() {
            return switch (this) {
                case GPT2 -> Gpt2Config.of(96, 32, 48, 2, 4, true);
                case LLAMA -> LlamaConfig.of(LlamaConfig.Family.LLAMA, 80, 64, 32, 80, 2, 4, 2, 10000.0, false);
                case QWEN2 -> LlamaConfig.of(LlamaConfig.Family.QWEN2, 128, 64, 64, 96, 2, 4, 2, 1_000_000.0, true);
                case MISTRAL -> LlamaConfig.of(LlamaConfig.Family.MISTRAL, 64, 64, 32, 64, 2, 4, 1, 10000.0, false);
            };
        }
    }

    /**
     * The two shapes the benchmarks measure against PyTorch eager ({@code shared/tools/torch-baseline}'s README
     * figures use the same): small enough for two cores, with real vocabularies, so that the vocabulary-sized work
     * (output projection, softmax, the draw) weighs as it does in a real model.
     */
    public enum BenchShape {
        /** GPT-2: vocab 50257, n_positions 1024, d 256, 4 layers, 4 heads, MLP 1024, tied. */
        GPT2_BENCH("gpt2-bench"),
        /** Qwen2: vocab 32000, d 256, 4 layers, 8 heads over 2 KV heads, intermediate 688, rope_theta 1e6, tied. */
        QWEN2_BENCH("qwen2-bench");

        private final String label;

        BenchShape(String label) {
            this.label = label;
        }

        /** The name on the command line ({@code gpt2-bench}, {@code qwen2-bench}). */
        public String label() {
            return label;
        }

        /** The config this shape's folder gets. */
        public HfModelConfig config() {
            return switch (this) {
                case GPT2_BENCH -> Gpt2Config.of(50257, 1024, 256, 4, 4, true);
                // max_position_embeddings 32768: Qwen2Config's default, as make_tiny_hf.py writes it
                case QWEN2_BENCH -> LlamaConfig.of(LlamaConfig.Family.QWEN2, 32000, 32768, 256, 688, 4, 8, 2,
                        1_000_000.0, true);
            };
        }

        /**
         * The shape named {@code label}.
         *
         * @throws IllegalArgumentException naming the label and the shapes there are
         */
        public static BenchShape of(String label) {
            for (BenchShape s : values()) {
                if (s.label.equals(label)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("no bench shape '" + label + "' (expected one of "
                    + Arrays.stream(values()).map(BenchShape::label).toList() + ")");
        }
    }

    private TinyHfModels() {
    }

    /** How the random weights are drawn. */
    public enum Init {
        /**
         * Every tensor large enough to change the logits (norm gains 1 + N(0, 0.1²), biases N(0, 0.1²), matrices
         * N(0, 1/fan_in), embeddings N(0, 0.3²)): what the numerical tests need. A tied model of this kind copies its
         * input token with near certainty, so most log-probs sit near -80, where exp gives subnormal floats.
         */
        STRESS,
        /**
         * transformers' {@code _init_weights}: matrices and embeddings N(0, 0.02²) (GPT-2's {@code c_proj} weights
         * N(0, (0.02 / sqrt(2 · n_layer))²)), zero biases, unit norm gains: the logits of a freshly initialised model,
         * as {@code make_tiny_hf.py --init hf} writes them; what the benchmarks measure.
         */
        HF
    }

    /** Writes a single-file F32 folder. */
    public static Path write(Path dir, Architecture architecture, long seed) throws IOException {
        return write(dir, architecture.config(), seed, SafetensorsDtype.F32, 1);
    }

    /**
     * Writes {@code config.json} and the weights of a random model of {@code config} into {@code dir}.
     *
     * @param dtype  the dtype on disk
     * @param shards 1 for {@code model.safetensors}, more for shards and an index
     * @return {@code dir}
     */
    public static Path write(Path dir, HfModelConfig config, long seed, SafetensorsDtype dtype, int shards)
            throws IOException {
        return write(dir, config, seed, dtype, shards, Init.STRESS);
    }

    /**
     * As {@link #write(Path, HfModelConfig, long, SafetensorsDtype, int)}, the weights drawn as {@code init} says.
     *
     * @return {@code dir}
     */
    public static Path write(Path dir, HfModelConfig config, long seed, SafetensorsDtype dtype, int shards, Init init)
            throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(HfModelConfig.FILE),
                new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(config) + "\n");
        writeWeights(dir, HfCausalLm.build(config).namedParameters(), config, seed, dtype, shards, init);
        return dir;
    }

    /**
     * Writes a single-file F32 reward folder in the sequence-classification layout of {@code architecture}
     * ({@link HfRewardModel}): {@code config.json} naming {@code *ForSequenceClassification} with
     * {@code num_labels} 1, the backbone tensors and {@code score.weight (1, D)}, drawn from {@code seed} as
     * {@link #write} draws them (the backbone equals the causal-LM folder of the same seed).
     *
     * @param padTokenId {@code pad_token_id}, or null for none
     * @return {@code dir}
     */
    public static Path writeReward(Path dir, Architecture architecture, long seed, Integer padTokenId)
            throws IOException {
        HfModelConfig config = architecture.config();
        String rewardClass = config instanceof Gpt2Config ? "GPT2ForSequenceClassification"
                : config.architecture().replace("ForCausalLM", "ForSequenceClassification");
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode json = mapper.valueToTree(config);
        json.putArray("architectures").add(rewardClass);
        json.put("num_labels", 1);
        if (padTokenId != null) {
            json.put("pad_token_id", padTokenId);
        }
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(HfModelConfig.FILE),
                mapper.writerWithDefaultPrettyPrinter().writeValueAsString(json) + "\n");
        writeWeights(dir, HfRewardModel.build(config).namedParameters(), config, seed, SafetensorsDtype.F32, 1,
                Init.STRESS);
        return dir;
    }

    /** The special tokens of {@link #writeTokenizer}, ids 0 to 3. */
    public static final List<String> TINY_SPECIAL_TOKENS = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>",
            "<unk>");
    /** The characters of {@link #writeTokenizer}'s vocabulary, most useful first; a vocabulary takes a prefix. */
    static final String TINY_CHARACTERS = " etaoinshrdlcumwfgypbvkjxqz.,?!'-:;0123456789"
            + "ETAOINSHRDLCUMWFGYPBVKJXQZ\"()/+*=<>_#@&%$[]{}|~^`\n";
    /** ChatML, as Qwen2's folders have it, minus the default system message. */
    static final String TINY_CHAT_TEMPLATE = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n'"
            + " + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /**
     * Writes a character-level tokenizer for a tiny model of {@code vocabSize} ids into {@code dir}: a BPE
     * {@code tokenizer.json} with no merges (each character its own token, {@code <unk>} for the rest, fused back
     * on decoding), the four {@link #TINY_SPECIAL_TOKENS} as added tokens, a {@code tokenizer_config.json} with
     * ChatML as its {@code chat_template} and {@code <|im_end|>} as EOS, and a {@code generation_config.json} that
     * stops at {@code <|im_end|>} or {@code <|endoftext|>}. A real tokenizer file read by the real library; its
     * vocabulary just fits a tiny embedding.
     *
     * @param vocabSize the model's vocabulary; the characters are the first {@code vocabSize - 4} of
     *                  {@link #TINY_CHARACTERS}
     * @return {@code dir}
     */
    public static Path writeTokenizer(Path dir, int vocabSize) throws IOException {
        int chars = Math.min(TINY_CHARACTERS.length(), vocabSize - TINY_SPECIAL_TOKENS.size());
        if (chars < 27) {
            throw new IllegalArgumentException("a vocabulary of " + vocabSize + " leaves no room for the letters");
        }
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < TINY_SPECIAL_TOKENS.size(); i++) {
            added.addObject().put("id", i).put("content", TINY_SPECIAL_TOKENS.get(i)).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putNull("normalizer");
        root.putNull("pre_tokenizer");
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "Fuse");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.put("unk_token", "<unk>");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < TINY_SPECIAL_TOKENS.size(); i++) {
            vocab.put(TINY_SPECIAL_TOKENS.get(i), i);
        }
        for (int i = 0; i < chars; i++) {
            vocab.put(String.valueOf(TINY_CHARACTERS.charAt(i)), TINY_SPECIAL_TOKENS.size() + i);
        }
        model.putArray("merges");
        ObjectNode config = mapper.createObjectNode();
        config.putNull("bos_token");
        config.put("eos_token", "<|im_end|>");
        config.put("pad_token", "<|endoftext|>");
        config.put("unk_token", "<unk>");
        config.put("chat_template", TINY_CHAT_TEMPLATE);
        ObjectNode generation = mapper.createObjectNode();
        generation.putArray("eos_token_id").add(2).add(0);
        generation.put("pad_token_id", 0);
        Files.createDirectories(dir);
        var writer = mapper.writerWithDefaultPrettyPrinter();
        Files.writeString(dir.resolve("tokenizer.json"), writer.writeValueAsString(root) + "\n");
        Files.writeString(dir.resolve("tokenizer_config.json"), writer.writeValueAsString(config) + "\n");
        Files.writeString(dir.resolve("generation_config.json"), writer.writeValueAsString(generation) + "\n");
        return dir;
    }

    /** Draws every parameter of {@code names} and writes them. */
    private static void writeWeights(Path dir, NamedParameters names, HfModelConfig config, long seed,
                                     SafetensorsDtype dtype, int shards, Init init) throws IOException {
        // GPT-2's Conv1D weights are stored [in, out]
        boolean conv1d = config instanceof Gpt2Config;
        try (NDManager manager = ModelRuntime.init().newBaseManager()) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, Parameter> e : names.byName().entrySet()) {
                String name = e.getKey();
                Shape shape = names.shape(name);
                Parameter.Type type = e.getValue().getType();
                tensors.put(name, init == Init.HF ? drawHf(manager, name, type, shape, config, seed)
                        : draw(manager, name, type, shape, conv1d, seed));
            }
            SafetensorsWriter.writeFolder(dir, tensors, dtype, shards);
        }
    }

    private static NDArray draw(NDManager manager, String name, Parameter.Type type, Shape shape, boolean conv1d,
                                long seed) {
        boolean embedding = name.endsWith("wte.weight") || name.endsWith("wpe.weight")
                || name.endsWith("embed_tokens.weight");
        double std;
        if (type == Parameter.Type.GAMMA || type == Parameter.Type.BETA || type == Parameter.Type.BIAS) {
            std = 0.1;
        } else if (embedding) {
            std = 0.3;
        } else {
            std = 1.0 / Math.sqrt(conv1d ? shape.get(0) : shape.get(1));
        }
        NDArray values = new SeededInitializer(seed * 1_000_003L + name.hashCode(), std)
                .initialize(manager, shape, DataType.FLOAT32);
        return type == Parameter.Type.GAMMA ? values.add(1.0f) : values;
    }

    /** transformers' {@code _init_weights} ({@link Init#HF}), each tensor from its own seeded generator. */
    private static NDArray drawHf(NDManager manager, String name, Parameter.Type type, Shape shape,
                                  HfModelConfig config, long seed) {
        if (type == Parameter.Type.GAMMA) {
            return manager.ones(shape);
        }
        if (type == Parameter.Type.BETA || type == Parameter.Type.BIAS) {
            return manager.zeros(shape);
        }
        // GPT2PreTrainedModel._init_weights: residual projections scaled by 1 / sqrt(2 · n_layer)
        double std = config instanceof Gpt2Config && name.endsWith("c_proj.weight")
                ? 0.02 / Math.sqrt(2.0 * config.numLayers()) : 0.02;
        return new SeededInitializer(seed * 1_000_003L + name.hashCode(), std)
                .initialize(manager, shape, DataType.FLOAT32);
    }

    /**
     * {@code TinyHfModels DIR gpt2|llama|qwen2|mistral SEED [f32|bf16|f16] [SHARDS] [--tokenizer] [--reward PAD_ID]}:
     * a causal-LM folder, or with {@code --reward} a sequence-classification one (F32, one file); {@code --tokenizer}
     * adds {@link #writeTokenizer}'s files.
     */
    public static void main(String[] args) throws IOException {
        List<String> positional = new java.util.ArrayList<>();
        boolean tokenizer = false;
        Integer rewardPad = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--tokenizer")) {
                tokenizer = true;
            } else if (args[i].equals("--reward") && i + 1 < args.length) {
                rewardPad = Integer.parseInt(args[++i]);
            } else {
                positional.add(args[i]);
            }
        }
        if (positional.size() < 3) {
            System.err.println("usage: TinyHfModels DIR gpt2|llama|qwen2|mistral SEED [f32|bf16|f16] [SHARDS]"
                    + " [--tokenizer] [--reward PAD_ID]");
            System.exit(2);
        }
        ModelRuntime.init(1);
        Path dir = Path.of(positional.get(0));
        Architecture architecture = Architecture.valueOf(positional.get(1).toUpperCase(java.util.Locale.ROOT));
        long seed = Long.parseLong(positional.get(2));
        if (rewardPad != null) {
            writeReward(dir, architecture, seed, rewardPad);
        } else {
            SafetensorsDtype dtype = positional.size() > 3
                    ? SafetensorsDtype.valueOf(positional.get(3).toUpperCase(java.util.Locale.ROOT))
                    : SafetensorsDtype.F32;
            int shards = positional.size() > 4 ? Integer.parseInt(positional.get(4)) : 1;
            write(dir, architecture.config(), seed, dtype, shards);
        }
        if (tokenizer) {
            writeTokenizer(dir, architecture.config().vocabSize());
        }
    }
}
