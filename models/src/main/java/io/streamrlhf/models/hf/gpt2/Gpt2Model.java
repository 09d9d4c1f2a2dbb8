package io.streamrlhf.models.hf.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import io.streamrlhf.models.hf.CausalLmBase;
import io.streamrlhf.models.hf.HfKvCache;
import io.streamrlhf.models.hf.NamedParameters;
import io.streamrlhf.models.hf.safetensors.SafetensorsWeights;
import io.streamrlhf.models.transformer.TransformerLayer;

/**
 * {@code GPT2LMHeadModel}: token ({@code transformer.wte}) plus learned position ({@code transformer.wpe})
 * embeddings, {@code n_layer} {@link Gpt2Layer}s, a final LayerNorm ({@code transformer.ln_f}) and the output
 * projection, {@code wte} itself when tied or {@code lm_head.weight}; built with
 * {@link Builder#setScoreLabels}, the {@code GPT2ForSequenceClassification} layout: the same backbone and
 * {@code score.weight} (N, D) in place of the language-model head.
 *
 * <table>
 *   <caption>Dimension letters</caption>
 *   <tr><td>B</td><td>batch</td></tr>
 *   <tr><td>T</td><td>positions in this call</td></tr>
 *   <tr><td>D</td><td>n_embd</td></tr>
 *   <tr><td>V</td><td>vocab_size</td></tr>
 * </table>
 *
 * <p>Input {@code tokens (B, T)}; output {@code logits (B, T, V)}. Checkpoint names load with or without the
 * {@code transformer.} prefix (files saved from {@code GPT2Model}, such as openai-community/gpt2, lack it);
 * the causal-mask buffers {@code attn.bias} and {@code attn.masked_bias} of old files are skipped.
 */
public final class Gpt2Model extends CausalLmBase {

    private static final byte VERSION = 1;
    private static final String PREFIX = "transformer.";
    private static final String LM_HEAD = "lm_head.weight";

    private final Gpt2Config config;
    private final Parameter wte;
    private final Parameter wpe;
    private final Gpt2Layer[] layers;
    private final Parameter lnWeight;
    private final Parameter lnBias;
    private final Parameter lmHead;
    private final Parameter score;

    private Gpt2Model(Builder b) {
        super(VERSION, b.scoreLabels > 0 ? b.scoreLabels : b.config.vocab_size(), b.config.n_positions(),
                "n_positions");
        this.config = b.config;
        NamedParameters names = namedParameters();
        int d = config.n_embd();
        wte = addParameter(names.add(PREFIX + "wte.weight", Parameter.Type.WEIGHT,
                new Shape(config.vocab_size(), d)));
        wpe = addParameter(names.add(PREFIX + "wpe.weight", Parameter.Type.WEIGHT,
                new Shape(config.n_positions(), d)));
        layers = new Gpt2Layer[config.n_layer()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = addChildBlock("h" + l,
                    Gpt2Layer.builder().setConfig(config).setIndex(l).setNames(names).build());
        }
        lnWeight = addParameter(names.add(PREFIX + "ln_f.weight", Parameter.Type.GAMMA, new Shape(d)));
        lnBias = addParameter(names.add(PREFIX + "ln_f.bias", Parameter.Type.BETA, new Shape(d)));
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
    public Gpt2Config config() {
        return config;
    }

    @Override
    public void loadWeights(SafetensorsWeights weights, NDManager manager) {
        namedParameters().load(weights, manager,
                name -> name.startsWith(PREFIX) || name.startsWith("lm_head.") || name.startsWith("score.") ? name
                        : PREFIX + name,
                name -> name.endsWith(".attn.bias") || name.endsWith(".attn.masked_bias")
                        // tied: the head is wte, as HF ties it; a score head has no lm_head to tie
                        || (lmHead == null && score == null && LM_HEAD.equals(name)));
    }

    @Override
    public HfKvCache newCache(NDManager manager, int batch, int capacity) {
        return new HfKvCache(manager, layers.length, batch, config.n_head(), config.headDim(), capacity);
    }

    @Override
    protected NDArray project(ParameterStore ps, NDArray hidden, boolean training) {
        NDArray head = value(ps, score != null ? score : lmHead != null ? lmHead : wte, hidden, training);  // (V, D)
        return TransformerLayer.linear(hidden, head, null);  // (B, T, V)
    }

    @Override
    protected NDArray hidden(ParameterStore ps, NDArray tokens, NDArray positionIds, NDArray keyBias,
                             HfKvCache cache, int pos, boolean training) {
        long t = tokens.getShape().get(1);
        NDManager m = tokens.getManager();
        NDArray positions = positionIds != null ? positionIds  // (B, T)
                : m.arange(pos, pos + (int) t, 1, DataType.INT64).expandDims(0);  // (1, T)
        NDArray x = Embedding.embedding(tokens, value(ps, wte, tokens, training), SparseFormat.DENSE)
                .singletonOrThrow()  // (B, T, D)
                .add(Embedding.embedding(positions, value(ps, wpe, tokens, training), SparseFormat.DENSE)
                        .singletonOrThrow());  // (B, T, D)
        for (Gpt2Layer layer : layers) {
            x = residualDropout(x, layer.forward(ps, x, keyBias, cache, pos, training), training);  // (B, T, D)
        }
        return LayerNorm.layerNorm(x, new Shape(config.n_embd()), value(ps, lnWeight, x, training),
                value(ps, lnBias, x, training), config.layer_norm_epsilon().floatValue())
                .singletonOrThrow();  // (B, T, D)
    }

    /** Builds a {@link Gpt2Model}. */
    public static final class Builder {
        private Gpt2Config config;
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
        public Builder setConfig(Gpt2Config config) {
            this.config = config;
            return this;
        }

        /** Checks the settings and builds the model (parameters not yet loaded). */
        public Gpt2Model build() {
            if (config == null) {
                throw new IllegalArgumentException("Gpt2Model: setConfig(...) is required");
            }
            return new Gpt2Model(this);
        }
    }
}
