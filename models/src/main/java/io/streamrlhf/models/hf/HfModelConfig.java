package io.streamrlhf.models.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.hf.gpt2.Gpt2Config;
import io.streamrlhf.models.hf.llama.LlamaConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A folder's {@code config.json}: one record per architecture, with {@code config.json}'s own field names
 * ({@link Gpt2Config} for {@code GPT2LMHeadModel}; {@link LlamaConfig} for {@code LlamaForCausalLM},
 * {@code Qwen2ForCausalLM} and {@code MistralForCausalLM}, which differ only by settings).
 */
public interface HfModelConfig {

    /** The file name. */
    String FILE = "config.json";

    /** The architecture class named in {@code architectures}, e.g. {@code Qwen2ForCausalLM}. */
    String architecture();

    /** Number of token ids (V). */
    int vocabSize();

    /** Longest sequence the model runs (positions). */
    int contextLength();

    /** Width of the residual stream (D). */
    int hiddenSize();

    /** Number of decoder layers (L). */
    int numLayers();

    /** Number of attention (query) heads. */
    int numHeads();

    /** Whether the output projection is the input embedding. */
    boolean tiedEmbeddings();

    /** Reads {@code dir/config.json} for the model's full context ({@link #read(Path, int)} with 0). */
    static HfModelConfig read(Path dir) {
        return read(dir, 0);
    }

    /**
     * Reads {@code dir/config.json}.
     *
     * @param context the longest sequence that will be run, or 0 for the config's own maximum; settings that
     *                only matter beyond it (Mistral's sliding window) are accepted
     * @throws HfFormatException naming the file and the setting: missing or unreadable file, an architecture
     *                           other than those above, or a setting that is not implemented
     */
    static HfModelConfig read(Path dir, int context) {
        Path file = dir.resolve(FILE);
        JsonNode root = readJson(file);
        return fromJson(file, root, architectureOf(file, root), context);
    }

    /**
     * {@code file} as a JSON object.
     *
     * @throws HfFormatException naming the file when it is missing, unreadable or not an object
     */
    static JsonNode readJson(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new HfFormatException(file, "cannot read config (" + e.getMessage() + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new HfFormatException(file, "not a JSON object");
        }
        return root;
    }

    /**
     * The causal-LM config record of {@code architecture} read from {@code root} (the contents of {@code file}).
     *
     * @throws HfFormatException as {@link #read(Path, int)}
     */
    static HfModelConfig fromJson(Path file, JsonNode root, String architecture, int context) {
        if (Gpt2Config.ARCHITECTURE.equals(architecture)) {
            return Gpt2Config.fromJson(file, root, context);
        }
        if (LlamaConfig.Family.of(architecture) != null) {
            return LlamaConfig.fromJson(file, root, context);
        }
        if (HfRewardModel.backboneArchitecture(architecture) != null) {
            throw new HfFormatException(file, "architectures [" + architecture + "] is a reward model (sequence"
                    + " classification), not a causal LM: load it with HfRewardModel");
        }
        throw new HfFormatException(file, "architectures [" + architecture + "] is not supported (supported: "
                + Gpt2Config.ARCHITECTURE + ", " + LlamaConfig.Family.names() + ")");
    }

    /** {@code architectures[0]}; a config without the list is refused (it names no model class to build). */
    static String architectureOf(Path file, JsonNode root) {
        JsonNode list = root.get("architectures");
        if (list == null || !list.isArray() || list.isEmpty()) {
            throw new HfFormatException(file, "architectures is missing; it names the model class to build");
        }
        if (list.size() > 1) {
            throw new HfFormatException(file, "architectures " + list + " names more than one model class");
        }
        return list.get(0).asText();
    }
}
