package io.streamrlhf.models.hf.gpt2;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.hf.HfFormatException;
import io.streamrlhf.models.hf.HfModelConfig;
import java.nio.file.Path;
import java.util.List;

/**
 * GPT-2's {@code config.json} ({@code configuration_gpt2.py}); component names are the file's own. Absent
 * fields take transformers' defaults. Other fields are ignored: none of them changes the forward pass in
 * evaluation (dropout rates) except those refused by {@link #fromJson}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Gpt2Config(
        List<String> architectures,
        String model_type,
        Integer vocab_size,
        Integer n_positions,
        Integer n_embd,
        Integer n_layer,
        Integer n_head,
        Integer n_inner,
        String activation_function,
        Double layer_norm_epsilon,
        Boolean tie_word_embeddings,
        Boolean scale_attn_weights,
        Boolean scale_attn_by_inverse_layer_idx,
        Boolean add_cross_attention) implements HfModelConfig {

    /** The architecture class. */
    public static final String ARCHITECTURE = "GPT2LMHeadModel";
    /** The only activation implemented: the tanh approximation of GELU. */
    public static final String GELU_NEW = "gelu_new";

    /** Fills transformers' defaults for absent fields. */
    public Gpt2Config {
        architectures = architectures == null ? List.of(ARCHITECTURE) : List.copyOf(architectures);
        model_type = model_type == null ? "gpt2" : model_type;
        vocab_size = vocab_size == null ? 50257 : vocab_size;
        n_positions = n_positions == null ? 1024 : n_positions;
        n_embd = n_embd == null ? 768 : n_embd;
        n_layer = n_layer == null ? 12 : n_layer;
        n_head = n_head == null ? 12 : n_head;
        activation_function = activation_function == null ? GELU_NEW : activation_function;
        layer_norm_epsilon = layer_norm_epsilon == null ? 1e-5 : layer_norm_epsilon;
        tie_word_embeddings = tie_word_embeddings == null ? Boolean.TRUE : tie_word_embeddings;
        scale_attn_weights = scale_attn_weights == null ? Boolean.TRUE : scale_attn_weights;
        scale_attn_by_inverse_layer_idx = scale_attn_by_inverse_layer_idx == null ? Boolean.FALSE
                : scale_attn_by_inverse_layer_idx;
        add_cross_attention = add_cross_attention == null ? Boolean.FALSE : add_cross_attention;
    }

    /** A tiny or custom GPT-2 shape with every other setting at its default. */
    public static Gpt2Config of(int vocabSize, int positions, int dModel, int layers, int heads, boolean tied) {
        return new Gpt2Config(null, null, vocabSize, positions, dModel, layers, heads, null, null, null, tied,
                null, null, null);
    }

    /**
     * Reads the record from {@code root} and refuses what is not implemented, naming {@code file} and the
     * setting.
     */
    public static Gpt2Config fromJson(Path file, JsonNode root, int context) {
        Gpt2Config c;
        try {
            c = new ObjectMapper().treeToValue(root, Gpt2Config.class);
        } catch (Exception e) {
            throw new HfFormatException(file, "cannot read GPT-2 config (" + e.getMessage() + ")", e);
        }
        if (!GELU_NEW.equals(c.activation_function)) {
            throw new HfFormatException(file, "activation_function " + c.activation_function
                    + " is not implemented (only " + GELU_NEW + ")");
        }
        if (c.add_cross_attention) {
            throw new HfFormatException(file, "add_cross_attention true (encoder-decoder GPT-2) is not implemented");
        }
        if (!c.scale_attn_weights || c.scale_attn_by_inverse_layer_idx) {
            throw new HfFormatException(file, "scale_attn_weights " + c.scale_attn_weights
                    + " / scale_attn_by_inverse_layer_idx " + c.scale_attn_by_inverse_layer_idx
                    + ": only the default attention scale 1/sqrt(head_dim) is implemented");
        }
        HfFormatException.require(file, c.vocab_size > 1, "vocab_size", c.vocab_size);
        HfFormatException.require(file, c.n_positions > 1, "n_positions", c.n_positions);
        HfFormatException.require(file, c.n_layer > 0, "n_layer", c.n_layer);
        HfFormatException.require(file, c.n_head > 0 && c.n_embd > 0 && c.n_embd % c.n_head == 0, "n_embd / n_head",
                c.n_embd + " / " + c.n_head);
        HfFormatException.require(file, c.n_inner == null || c.n_inner > 0, "n_inner", c.n_inner);
        HfFormatException.require(file, context <= c.n_positions, "n_positions (shorter than the context " + context + ")",
                c.n_positions);
        return c;
    }

    /** Width of one head (n_embd / n_head). */
    public int headDim() {
        return n_embd / n_head;
    }

    /** Width of the MLP: {@code n_inner}, or 4 x n_embd when it is null (GPT2Block). */
    public int innerSize() {
        return n_inner != null ? n_inner : 4 * n_embd;
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
        return n_positions;
    }

    @Override
    public int hiddenSize() {
        return n_embd;
    }

    @Override
    public int numLayers() {
        return n_layer;
    }

    @Override
    public int numHeads() {
        return n_head;
    }

    @Override
    public boolean tiedEmbeddings() {
        return tie_word_embeddings;
    }
}
