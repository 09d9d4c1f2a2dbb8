package io.streamrlhf.models.hf.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.training.ParameterStore;
import io.streamrlhf.models.hf.CausalLmBase;
import io.streamrlhf.models.hf.HfKvCache;
import io.streamrlhf.models.hf.NamedParameters;
import io.streamrlhf.models.hf.safetensors.SafetensorsWeights;
import io.streamrlhf.models.transformer.TransformerLayer;

/**
 * {@code LlamaForCausalLM}, {@code Qwen2ForCausalLM} and {@code MistralForCausalLM}: token embeddings
 * ({@code model.embed_tokens}), {@code num_hidden_layers} {@link LlamaLayer}s, a final RMSNorm
 * ({@code model.norm}) and the output projection, the embedding itself when {@code tie_word_embeddings} or
 * {@code lm_head.weight}; built with {@link Builder#setScoreLabels}, the {@code *ForSequenceClassification}
 * layout: the same backbone and {@code score.weight} (N, D) in place of the language-model head.
 *
 * <table>
 *   <caption>Dimension letters</caption>
 *   <tr><td>B</td><td>batch</td></tr>
 *   <tr><td>T</td><td>positions in this call</td></tr>
 *   <tr><td>D</td><td>hidden_size</td></tr>
 *   <tr><td>V</td><td>vocab_size</td></tr>
 * </table>
 *
 * <p>Input {@code tokens (B, T)}; output {@code logits (B, T, V)}. The {@code rotary_emb.inv_freq} buffers of
 * old files are skipped (the frequencies are recomputed from {@code rope_theta}).
 */
public final class LlamaModel extends CausalLmBase {

    private static final byte VERSION = 1;
    private static final String LM_HEAD = "lm_head.weight";

    private final LlamaConfig config;
    private final RotaryEmbedding rotary;
    private final Parameter embedTokens;
    private final LlamaLayer[] layers;
    private final Parameter norm;
    private final Parameter lmHead;
    private final Parameter score;

    private LlamaModel(Builder b) {
        super(VERSION, b.scoreLabels > 0 ? b.scoreLabels : b.config.vocab_size(), b.config.max_position_embeddings(),
                "max_position_embeddings");
        this.config = b.config;
        NamedParameters names = namedParameters();
        int d = config.hidden_size();
        rotary = new RotaryEmbedding(config.head_dim(), config.rope_theta());
        embedTokens = addParameter(names.add("model.embed_tokens.weight", Parameter.Type.WEIGHT,
                new Shape(config.vocab_size(), d)));
        layers = new LlamaLayer[config.num_hidden_layers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = addChildBlock("layer" + l,
                    LlamaLayer.builder().setConfig(config).setIndex(l).setNames(names).build());
        }
        norm = addParameter(names.add("model.norm.weight", Parameter.Type.GAMMA, new Shape(d)));
        score = b.scoreLabels > 0
                ? addParameter(names.add(SCORE_WEIGHT, Parameter.Type.WEIGHT, new Shape(b.scoreLabels, d))) : null;
        lmHead = score != null || config.tie_word_embeddings() ? null
                : addParameter(names.add(LM_HEAD, Parameter.Type.WEIGHT, new Shape(config.vocab_size(), d)));
    }

    /** A builder; {@code setConfig} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /** The config this model was built from. */
    public LlamaConfig config() {
        return config;
    }

    @Override
    public void loadWeights(SafetensorsWeights weights, NDManager manager) {
        namedParameters().load(weights, manager, name -> name,
                name -> name.endsWith("rotary_emb.inv_freq")
                        // tied: the head is the embedding; a score head has no lm_head to tie
                        || (lmHead == null && score == null && LM_HEAD.equals(name)));
    }

    @Override
    public HfKvCache newCache(NDManager manager, int batch, int capacity) {
        return new HfKvCache(manager, layers.length, batch, config.num_key_value_heads(), config.head_dim(),
                capacity);
    }

    @Override
    protected NDArray project(ParameterStore ps, NDArray hidden, boolean training) {
        NDArray head = value(ps, score != null ? score : lmHead != null ? lmHead : embedTokens, hidden, training);  // (V, D)
        return TransformerLayer.linear(hidden, head, null);  // (B, T, V)
    }

    @Override
    protected NDArray hidden(ParameterStore ps, NDArray tokens, NDArray positionIds, NDArray keyBias,
                             HfKvCache cache, int pos, boolean training) {
        int t = Math.toIntExact(tokens.getShape().get(1));
        NDArray[] cosSin = positionIds != null ? rotary.cosSin(positionIds)  // 2 x (B, 1, T, K)
                : rotary.cosSin(tokens.getManager(), pos, t);  // 2 x (1, 1, T, K)
        NDArray x = Embedding.embedding(tokens, value(ps, embedTokens, tokens, training), SparseFormat.DENSE)
                .singletonOrThrow();  // (B, T, D)
        for (LlamaLayer layer : layers) {
            x = residualDropout(x, layer.forward(ps, x, cosSin, keyBias, cache, pos, training), training);  // (B, T, D)
        }
        return LlamaLayer.rmsNorm(x, value(ps, norm, x, training),
                config.rms_norm_eps().floatValue());  // (B, T, D)
    }

    /** Builds a {@link LlamaModel}. */
    public static final class Builder {
        private LlamaConfig config;
        private int scoreLabels;

        private Builder() {
        }

        /**
         * Builds the sequence-classification layout: {@code score.weight (labels, D)} replaces the language-model
         * head, so the output is (B, T, labels). 0 (the default) keeps the language-model head.
         */
        public Builder setScoreLabels(int labels) {
            this.scoreLabels = labels;
            return this;
        }

        /** The model's config (required). */
        public Builder setConfig(LlamaConfig config) {
            this.config = config;
            return this;
        }

        /** Checks the settings and builds the model (parameters not yet loaded). */
        public LlamaModel build() {
            if (config == null) {
                throw new IllegalArgumentException("LlamaModel: setConfig(...) is required");
            }
            return new LlamaModel(this);
        }
    }
}
