package io.streamrlhf.models.hf;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.engine.NoGrad;
import io.streamrlhf.models.hf.gpt2.Gpt2Config;
import io.streamrlhf.models.hf.gpt2.Gpt2Model;
import io.streamrlhf.models.hf.llama.LlamaConfig;
import io.streamrlhf.models.hf.llama.LlamaModel;
import io.streamrlhf.models.hf.safetensors.SafetensorsWeights;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A Hugging Face causal-LM folder loaded for inference: its config, its block and the manager that owns the
 * weights (float32, on the given device). Closing it frees the weights.
 *
 * <pre>{@code
 * try (HfCausalLm lm = HfCausalLm.load(dir);
 *      NDManager step = lm.manager().newSubManager()) {
 *     NDArray logits = lm.logits(step.create(ids, new Shape(1, ids.length)));  // (B, T, V)
 * }
 * }</pre>
 */
public final class HfCausalLm implements KvDecoding, AutoCloseable {

    private final Path dir;
    private final HfModelConfig config;
    private final CausalLmBlock block;
    private final NDManager manager;
    private final ParameterStore parameterStore;

    private HfCausalLm(Path dir, HfModelConfig config, CausalLmBlock block, NDManager manager) {
        this.dir = dir;
        this.config = config;
        this.block = block;
        this.manager = manager;
        this.parameterStore = new ParameterStore(manager, false);
    }

    /** Loads {@code dir} for its full context on {@link ModelRuntime#device()}. */
    public static HfCausalLm load(Path dir) {
        return load(dir, 0, ModelRuntime.device());
    }

    /**
     * Loads {@code dir}.
     *
     * @param context the longest sequence that will be run (0: the config's maximum); see
     *                {@link HfModelConfig#read(Path, int)}
     * @throws HfFormatException naming the file and the setting or tensor that is refused
     */
    public static HfCausalLm load(Path dir, int context, Device device) {
        HfModelConfig config = HfModelConfig.read(dir, context);
        CausalLmBlock block = build(config);
        return new HfCausalLm(dir, config, block, loadWeights(dir, block, device));
    }

    /**
     * Loads the folder's safetensors weights into {@code block}, in a new base manager on {@code device} that the
     * caller owns.
     *
     * @throws HfFormatException naming the file (a pickle instead of safetensors) or tensor refused
     */
    static NDManager loadWeights(Path dir, CausalLmBlock block, Device device) {
        if (!SafetensorsWeights.present(dir)) {
            for (String pickle : new String[] {"pytorch_model.bin.index.json", "pytorch_model.bin"}) {
                if (Files.exists(dir.resolve(pickle))) {
                    throw new HfFormatException(dir.resolve(pickle), "only safetensors weights are read (a .bin"
                            + " file is a Python pickle); convert the folder, e.g. save_pretrained(...,"
                            + " safe_serialization=True)");
                }
            }
        }
        SafetensorsWeights weights = SafetensorsWeights.open(dir);
        NDManager manager = ModelRuntime.init().newBaseManager(device);
        try {
            block.loadWeights(weights, manager);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
        return manager;
    }

    /** The block for {@code config}, parameters declared but not loaded. */
    public static CausalLmBlock build(HfModelConfig config) {
        if (config instanceof Gpt2Config gpt2) {
            return Gpt2Model.builder().setConfig(gpt2).build();
        }
        if (config instanceof LlamaConfig llama) {
            return LlamaModel.builder().setConfig(llama).build();
        }
        throw new IllegalArgumentException("no block for " + config.architecture());
    }

    /** The folder loaded. */
    public Path dir() {
        return dir;
    }

    /** Its config. */
    public HfModelConfig config() {
        return config;
    }

    @Override
    public HfModelConfig modelConfig() {
        return config;
    }

    /** The block; its parameters are named by checkpoint tensor name ({@link CausalLmBlock#namedParameters}). */
    public CausalLmBlock block() {
        return block;
    }

    /** The manager owning the weights; open per-call sub-managers from it. */
    @Override
    public NDManager manager() {
        return manager;
    }

    /** Logits (B, T, V) of {@code tokens (B, T)} at positions {@code [0, T)}; records no autograd graph. */
    public NDArray logits(NDArray tokens) {
        try (NoGrad ignored = NoGrad.enter()) {
            return block.forward(parameterStore, new NDList(tokens), false).singletonOrThrow();  // (B, T, V)
        }
    }

    /**
     * Logits (B, T, V) of a left-padded batch {@code tokens (B, T)} with its {@code attentionMask (B, T)} (1 for a
     * real token, 0 for padding): each row's positions start at 0 at its first real token, and padding is never
     * attended to, so a row's logits at its real positions are those of the row run alone.
     */
    public NDArray logits(NDArray tokens, NDArray attentionMask) {
        try (NoGrad ignored = NoGrad.enter()) {
            return block.forward(parameterStore, new NDList(tokens, attentionMask), false)
                    .singletonOrThrow();  // (B, T, V)
        }
    }

    /** An empty KV cache in {@code manager} for {@code batch} rows and {@code capacity} positions. */
    @Override
    public HfKvCache newCache(NDManager cacheManager, int batch, int capacity) {
        return block.newCache(cacheManager, batch, capacity);
    }

    /**
     * Logits (B, T, V) of {@code tokens (B, T)} at positions {@code [pos, pos + T)}, attending over the
     * {@code pos} positions already in {@code cache}, into which this call's keys and values are written.
     */
    public NDArray logits(NDArray tokens, HfKvCache cache, int pos) {
        try (NoGrad ignored = NoGrad.enter()) {
            return block.forwardCached(parameterStore, tokens, cache, pos);  // (B, T, V)
        }
    }

    /**
     * The cached forward of a left-padded batch: {@code attentionMask (B, pos + T)} covers the {@code pos}
     * cached positions and this call's T (as transformers' {@code generate} extends it each step); padding is
     * never attended to and each row's positions count from its first real token.
     */
    @Override
    public NDArray logits(NDArray tokens, NDArray attentionMask, HfKvCache cache, int pos) {
        try (NoGrad ignored = NoGrad.enter()) {
            return block.forwardCached(parameterStore, tokens, attentionMask, cache, pos);  // (B, T, V)
        }
    }

    @Override
    public NDArray lastLogits(NDArray tokens, NDArray attentionMask, HfKvCache cache, int pos) {
        try (NoGrad ignored = NoGrad.enter()) {
            return block.forwardCachedLast(parameterStore, tokens, attentionMask, cache, pos);  // (B, 1, V)
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
