package io.streamrlhf.models.hf.llama;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.hf.HfFormatException;
import io.streamrlhf.models.hf.HfModelConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The {@code config.json} of {@code LlamaForCausalLM}, {@code Qwen2ForCausalLM} and {@code MistralForCausalLM}
 * ({@code configuration_llama.py}, {@code _qwen2.py}, {@code _mistral.py}); component names are the file's
 * own. Absent optional fields take transformers' defaults for the family; the shape fields are required.
 * Fields not listed are ignored: none of them changes the forward pass in evaluation except those refused
 * by {@link #fromJson}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LlamaConfig(
        List<String> architectures,
        String model_type,
        Integer vocab_size,
        Integer hidden_size,
        Integer intermediate_size,
        Integer num_hidden_layers,
        Integer num_attention_heads,
        Integer num_key_value_heads,
        Integer head_dim,
        String hidden_act,
        Integer max_position_embeddings,
        Double rms_norm_eps,
        Double rope_theta,
        JsonNode rope_scaling,
        JsonNode rope_parameters,
        Double partial_rotary_factor,
        Boolean tie_word_embeddings,
        Boolean attention_bias,
        Boolean mlp_bias,
        Boolean use_sliding_window,
        Integer sliding_window) implements HfModelConfig {

    /** The three architectures of the family and what distinguishes them. */
    public enum Family {
        /** {@code LlamaForCausalLM}: {@code attention_bias} puts biases on q, k, v and o. */
        LLAMA("LlamaForCausalLM", "llama", 2048),
        /** {@code Qwen2ForCausalLM}: q, k and v always have biases, o has none. */
        QWEN2("Qwen2ForCausalLM", "qwen2", 32768),
        /** {@code MistralForCausalLM}: no biases; a sliding attention window (default 4096). */
        MISTRAL("MistralForCausalLM", "mistral", 4096 * 32);

        private final String architecture;
        private final String modelType;
        private final int defaultPositions;

        Family(String architecture, String modelType, int defaultPositions) {
            this.architecture = architecture;
            this.modelType = modelType;
            this.defaultPositions = defaultPositions;
        }

        /** The architecture class name. */
        public String architecture() {
            return architecture;
        }

        /** {@code model_type} in config.json. */
        public String modelType() {
            return modelType;
        }

        /** The family of an architecture class name, or null. */
        public static Family of(String architecture) {
            for (Family f : values()) {
                if (f.architecture.equals(architecture)) {
                    return f;
                }
            }
            return null;
        }

        /** The architecture names, for messages. */
        public static String names() {
            return Arrays.stream(values()).map(Family::architecture).collect(Collectors.joining(", "));
        }
    }

    /** The only activation implemented in the MLP. */
    public static final String SILU = "silu";

    /** Fills transformers' defaults for absent optional fields. */
    public LlamaConfig {
        architectures = architectures == null ? List.of(Family.LLAMA.architecture()) : List.copyOf(architectures);
        Family family = Family.of(architectures.get(0));
        model_type = model_type == null && family != null ? family.modelType() : model_type;
        num_key_value_heads = num_key_value_heads == null ? num_attention_heads : num_key_value_heads;
        if (head_dim == null && hidden_size != null && num_attention_heads != null && num_attention_heads > 0) {
            head_dim = hidden_size / num_attention_heads;
        }
        hidden_act = hidden_act == null ? SILU : hidden_act;
        max_position_embeddings = max_position_embeddings == null && family != null ? family.defaultPositions
                : max_position_embeddings;
        rms_norm_eps = rms_norm_eps == null ? 1e-6 : rms_norm_eps;
        if (rope_theta == null && rope_parameters != null && rope_parameters.hasNonNull("rope_theta")) {
            rope_theta = rope_parameters.get("rope_theta").asDouble();  // transformers v5 moved it here
        }
        rope_theta = rope_theta == null ? 10000.0 : rope_theta;
        tie_word_embeddings = tie_word_embeddings == null ? Boolean.FALSE : tie_word_embeddings;
        attention_bias = attention_bias == null ? Boolean.FALSE : attention_bias;
        mlp_bias = mlp_bias == null ? Boolean.FALSE : mlp_bias;
        use_sliding_window = use_sliding_window == null ? Boolean.FALSE : use_sliding_window;
    }

    /**
     * A tiny or custom shape of {@code family} with every other setting at its default: Qwen2 gets its q/k/v
     * biases, Mistral a sliding window as long as its context (so never in effect).
     */
    public static LlamaConfig of(Family family, int vocabSize, int positions, int hidden, int intermediate,
                                 int layers, int heads, int kvHeads, double ropeTheta, boolean tied) {
        return new LlamaConfig(List.of(family.architecture()), family.modelType(), vocabSize, hidden, intermediate,
                layers, heads, kvHeads, hidden / heads, SILU, positions, 1e-6, ropeTheta, null, null, null, tied,
                null, null, null, family == Family.MISTRAL ? Integer.valueOf(positions) : null);
    }

    /**
     * Reads the record from {@code root} and refuses what is not implemented, naming {@code file} and the
     * setting.
     *
     * @param context the longest sequence that will be run, 0 for {@code max_position_embeddings}
     */
    public static LlamaConfig fromJson(Path file, JsonNode root, int context) {
        LlamaConfig c;
        try {
            c = new ObjectMapper().treeToValue(root, LlamaConfig.class);
        } catch (Exception e) {
            throw new HfFormatException(file, "cannot read config (" + e.getMessage() + ")", e);
        }
        Family family = c.family();
        for (String field : List.of("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                "num_attention_heads")) {
            if (!root.hasNonNull(field)) {
                throw new HfFormatException(file, field + " is missing");
            }
        }
        if (!SILU.equals(c.hidden_act)) {
            throw new HfFormatException(file, "hidden_act " + c.hidden_act + " is not implemented (only " + SILU
                    + ")");
        }
        refuseRopeType(file, "rope_scaling", c.rope_scaling);
        refuseRopeType(file, "rope_parameters", c.rope_parameters);
        if (c.partial_rotary_factor != null && c.partial_rotary_factor != 1.0) {
            throw new HfFormatException(file, "partial_rotary_factor " + c.partial_rotary_factor
                    + " is not implemented (rotary embeddings cover the whole head)");
        }
        if (c.mlp_bias) {
            throw new HfFormatException(file, "mlp_bias true is not implemented");
        }
        if (family == Family.QWEN2 && c.use_sliding_window) {
            throw new HfFormatException(file, "use_sliding_window true (Qwen2 sliding-window layers) is not"
                    + " implemented");
        }
        int run = context > 0 ? context : c.max_position_embeddings;
        // MistralConfig's default window is 4096 when the field is absent; null means none.
        Integer window = family == Family.MISTRAL && !root.has("sliding_window") ? Integer.valueOf(4096)
                : c.sliding_window;
        if (family == Family.MISTRAL && window != null && window < run) {
            throw new HfFormatException(file, "sliding_window " + window + " is smaller than the context run ("
                    + run + "); sliding-window attention is not implemented");
        }
        HfFormatException.require(file, c.vocab_size > 1, "vocab_size", c.vocab_size);
        HfFormatException.require(file, c.num_hidden_layers > 0, "num_hidden_layers", c.num_hidden_layers);
        HfFormatException.require(file, c.num_attention_heads > 0 && c.num_key_value_heads > 0
                        && c.num_attention_heads % c.num_key_value_heads == 0,
                "num_attention_heads / num_key_value_heads", c.num_attention_heads + " / " + c.num_key_value_heads);
        HfFormatException.require(file, c.head_dim > 0 && c.head_dim % 2 == 0, "head_dim", c.head_dim);
        HfFormatException.require(file, c.intermediate_size > 0, "intermediate_size", c.intermediate_size);
        HfFormatException.require(file, run <= c.max_position_embeddings, "max_position_embeddings (shorter than the context "
                + run + ")", c.max_position_embeddings);
        return c;
    }

    private static void refuseRopeType(Path file, String field, JsonNode node) {
        if (node == null || node.isNull()) {
            return;
        }
        JsonNode type = node.has("rope_type") ? node.get("rope_type") : node.get("type");
        String name = type == null || type.isNull() ? "default" : type.asText();
        if (!"default".equals(name)) {
            throw new HfFormatException(file, field + " type " + name + " is not implemented (only the default"
                    + " rotary embedding)");
        }
    }

    /** The family named by {@code architectures}. */
    public Family family() {
        return Family.of(architecture());
    }

    /** Whether q, k and v have biases (Qwen2 always; Llama with {@code attention_bias}). */
    public boolean qkvBias() {
        return family() == Family.QWEN2 || (family() == Family.LLAMA && attention_bias);
    }

    /** Whether o has a bias (Llama with {@code attention_bias}). */
    public boolean outputBias() {
        return family() == Family.LLAMA && attention_bias;
    }

    @Override
    public String architecture() {
        return architectures.get(0);
    }

    @Override
    public int vocabSize() {
        return vocab_size;
    }

    @Override
    public int contextLength() {
        return max_position_embeddings;
    }

    @Override
    public int hiddenSize() {
        return hidden_size;
    }

    @Override
    public int numLayers() {
        return num_hidden_layers;
    }

    @Override
    public int numHeads() {
        return num_attention_heads;
    }

    @Override
    public boolean tiedEmbeddings() {
        return tie_word_embeddings;
    }
}
