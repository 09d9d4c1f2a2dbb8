package io.streamrlhf.models.hf;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.ModelKind;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.engine.NoGrad;
import io.streamrlhf.models.hf.safetensors.SafetensorsDtype;
import io.streamrlhf.models.hf.safetensors.SafetensorsFile;
import io.streamrlhf.models.hf.safetensors.SafetensorsWeights;
import io.streamrlhf.models.hf.safetensors.SafetensorsWriter;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.policy.PolicyOutput;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Hugging Face causal LM as a trainable PPO policy: the folder's model (GPT-2 or the Llama family) with a scalar
 * value head over its final hidden states ({@code v_head.weight (1, D)}, {@code v_head.bias (1)}, zero at the
 * start, as TRL's {@code AutoModelForCausalLMWithValueHead} names them).
 *
 * <p>Checkpoints ({@link #ARCHITECTURE} {@value #ARCHITECTURE}) hold the weights as one safetensors file under the
 * folder's own tensor names plus the value head, and carry the folder's config, tokenizer and generation files
 * ({@link Checkpoint#modelFiles()}), so a worker, the reward stream or {@code rlhf export} rebuilds the policy from
 * the checkpoint alone; nothing is read from the original folder again.
 *
 * <p>Weights are float32 on the CPU. A hot swap ({@link #loadWeights}) copies the checkpoint's bytes tensor by tensor
 * into new storage for each running parameter, whose old storage goes: besides the running weights it holds the
 * checkpoint's bytes and, tensor by tensor, the storage being replaced.
 */
public final class HfPolicy implements PolicyModel, KvDecoding {

    /** Architecture name in checkpoints. */
    public static final String ARCHITECTURE = "hf";
    /** The value head's weight, (1, D). */
    public static final String VALUE_WEIGHT = "v_head.weight";
    /** The value head's bias, (1). */
    public static final String VALUE_BIAS = "v_head.bias";
    /** The folder files a checkpoint carries when the folder has them (the weights travel separately). */
    public static final List<String> CARRIED_FILES = List.of(HfModelConfig.FILE, "generation_config.json",
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja");
    /** Checkpoint metadata: the positions the policy was loaded for. */
    public static final String CONTEXT_METADATA = "hf.context";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HfModelConfig hfConfig;
    private final TransformerConfig shape;
    private final Map<String, byte[]> files;
    private final int context;
    private final NDManager manager;
    private final ValueHeadBlock block;
    private final ParameterStore parameterStore;

    private HfPolicy(HfModelConfig hfConfig, Map<String, byte[]> files, int context, NDManager manager,
                     ValueHeadBlock block) {
        this.hfConfig = hfConfig;
        this.files = files;
        this.context = context;
        this.manager = manager;
        this.block = block;
        this.shape = new TransformerConfig(hfConfig.vocabSize(), context, hfConfig.hiddenSize(),
                hfConfig.numLayers(), hfConfig.numHeads());
        this.parameterStore = new ParameterStore(manager, false);
    }

    /**
     * Loads a Hugging Face causal-LM folder as a policy on {@link ModelRuntime#device()}, with a zero value head.
     *
     * @param context the longest sequence that will be run (0: the config's maximum)
     * @throws HfFormatException naming the file and the setting or tensor refused
     */
    public static HfPolicy load(Path dir, int context) {
        return load(dir, context, ModelRuntime.device());
    }

    /** As {@link #load(Path, int)} on {@code device}. */
    public static HfPolicy load(Path dir, int context, Device device) {
        HfModelConfig config = HfModelConfig.read(dir, context);
        checkTokenizer(dir, config);
        Map<String, byte[]> files = readCarried(dir);
        CausalLmBase lm = (CausalLmBase) HfCausalLm.build(config);
        NDManager manager = HfCausalLm.loadWeights(dir, lm, device);
        try {
            ValueHeadBlock block = new ValueHeadBlock(lm, config.hiddenSize());
            block.valueWeight.setArray(manager.zeros(new Shape(1, config.hiddenSize())));
            block.valueBias.setArray(manager.zeros(new Shape(1)));
            HfPolicy policy = new HfPolicy(config, files, effectiveContext(config, context), manager, block);
            policy.freeze(false);
            return policy;
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** A policy holding a checkpoint's weights, on {@link ModelRuntime#device()}, ready to train. */
    public static HfPolicy fromCheckpoint(Checkpoint checkpoint) {
        return fromCheckpoint(checkpoint, ModelRuntime.device());
    }

    /**
     * A policy holding a checkpoint's weights on {@code device}, ready to train.
     *
     * @throws CheckpointException if it is not an {@value #ARCHITECTURE} policy or its files or weights are refused
     */
    public static HfPolicy fromCheckpoint(Checkpoint checkpoint, Device device) {
        checkKind(checkpoint);
        int context = Integer.parseInt(checkpoint.metadata().getOrDefault(CONTEXT_METADATA, "0"));
        HfModelConfig config = configOf(checkpoint, context);
        CausalLmBase lm = (CausalLmBase) HfCausalLm.build(config);
        ValueHeadBlock block = new ValueHeadBlock(lm, config.hiddenSize());
        NDManager manager = ModelRuntime.init().newBaseManager(device);
        try {
            block.load(weightsOf(checkpoint), manager);
            HfPolicy policy = new HfPolicy(config, checkpoint.modelFiles(), effectiveContext(config, context),
                    manager, block);
            policy.freeze(false);
            return policy;
        } catch (HfFormatException e) {
            manager.close();
            throw new CheckpointException("checkpoint weights: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** Whether {@code checkpoint} holds a policy of this kind. */
    public static boolean holds(Checkpoint checkpoint) {
        return checkpoint.kind() == ModelKind.POLICY && ARCHITECTURE.equals(checkpoint.architecture());
    }

    /** This policy's weights and files as a checkpoint (optimiser state may be {@code null}). */
    @Override
    public Checkpoint toCheckpoint(Map<String, String> metadata, byte[] optimizerState) {
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put(CONTEXT_METADATA, Integer.toString(context));
        meta.putIfAbsent("hf.architecture", hfConfig.architecture());
        return new Checkpoint(ModelKind.POLICY, ARCHITECTURE, shape,
                SafetensorsWriter.toBytes(namedArrays(true), SafetensorsDtype.F32), optimizerState, meta, files);
    }

    /**
     * The weights by tensor name, without the value head when {@code withValueHead} is false (what a Hugging Face
     * folder holds). The arrays are the live parameters: read them, do not close them.
     */
    public Map<String, NDArray> namedArrays(boolean withValueHead) {
        Map<String, NDArray> out = new TreeMap<>();
        block.lm.namedParameters().byName().forEach((name, p) -> out.put(name, p.getArray()));
        if (withValueHead) {
            out.put(VALUE_WEIGHT, block.valueWeight.getArray());
            out.put(VALUE_BIAS, block.valueBias.getArray());
        }
        return out;
    }

    /**
     * Hot swap: copies a checkpoint's weights into this running policy in place. Refused, with nothing changed, if
     * it is not a policy with this policy's {@code config.json}. Call it between batches.
     */
    @Override
    public void loadWeights(Checkpoint checkpoint) {
        checkKind(checkpoint);
        byte[] theirs = checkpoint.modelFiles().get(HfModelConfig.FILE);
        if (!java.util.Arrays.equals(theirs, files.get(HfModelConfig.FILE))) {
            throw new CheckpointException("checkpoint's " + HfModelConfig.FILE + " differs from the running policy's ("
                    + hfConfig.architecture() + ", " + shape + "); a swap keeps the architecture");
        }
        SafetensorsWeights weights = weightsOf(checkpoint);
        Map<String, Parameter> params = block.parametersByName();
        try {
            for (String name : weights.names()) {
                Parameter p = params.get(name);
                if (p == null) {
                    throw new CheckpointException("checkpoint weights hold tensor " + name + ", which the running "
                            + "policy does not have");
                }
                if (!weights.info(name).shape().equals(p.getArray().getShape())) {
                    throw new CheckpointException("checkpoint tensor " + name + " has shape " + weights.info(name)
                            .shape() + " but the running policy's is " + p.getArray().getShape());
                }
            }
            for (String name : params.keySet()) {
                if (!weights.contains(name)) {
                    throw new CheckpointException("checkpoint weights lack tensor " + name);
                }
            }
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
                NDArray target = e.getValue().getArray();
                if (weights.info(e.getKey()).dtype() == SafetensorsDtype.F32) {
                    // the stored bytes as they are: DJL copies them into a new buffer that becomes the parameter's
                    // storage, and the old storage goes
                    target.set(weights.bytes(e.getKey()));
                } else {
                    try (NDManager one = manager.newSubManager()) {
                        target.set(weights.load(one, e.getKey()).toByteBuffer());
                    }
                }
            }
        } catch (HfFormatException e) {
            throw new CheckpointException("checkpoint weights: " + e.getMessage(), e);
        }
    }

    /** The folder's config. */
    @Override
    public HfModelConfig modelConfig() {
        return hfConfig;
    }

    /** The files a checkpoint of this policy carries, by name. */
    public Map<String, byte[]> files() {
        return files;
    }

    @Override
    public String architecture() {
        return ARCHITECTURE;
    }

    @Override
    public TransformerConfig config() {
        return shape;
    }

    @Override
    public ValueHeadBlock block() {
        return block;
    }

    @Override
    public NDManager manager() {
        return manager;
    }

    @Override
    public PolicyOutput forward(NDArray tokens, NDArray attentionMask, boolean training) {
        NDList in = attentionMask == null ? new NDList(tokens) : new NDList(tokens, attentionMask);
        NDList out = block.forward(parameterStore, in, training);
        return new PolicyOutput(out.get(0), out.get(1));  // (B, T, V), (B, T)
    }

    /** The output projection runs on positions {@code [from, T - 1)} alone; the value head on every position. */
    @Override
    public PolicyOutput forwardFrame(NDArray tokens, NDArray attentionMask, boolean training, int from) {
        NDList in = attentionMask == null ? new NDList(tokens) : new NDList(tokens, attentionMask);
        PairList<String, Object> params = new PairList<>();
        params.add(ValueHeadBlock.LOGITS_FROM, from);
        NDList out = block.forward(parameterStore, in, training, params);
        return new PolicyOutput(out.get(0), out.get(1));  // (B, T - 1 - from, V), (B, T)
    }

    @Override
    public HfKvCache newCache(NDManager cacheManager, int batch, int capacity) {
        return block.lm.newCache(cacheManager, batch, capacity);
    }

    @Override
    public NDArray logits(NDArray tokens, NDArray attentionMask, HfKvCache cache, int pos) {
        try (NoGrad ignored = NoGrad.enter()) {
            return block.lm.forwardCached(parameterStore, tokens, attentionMask, cache, pos);  // (B, T, V)
        }
    }

    @Override
    public NDArray lastLogits(NDArray tokens, NDArray attentionMask, HfKvCache cache, int pos) {
        try (NoGrad ignored = NoGrad.enter()) {
            return block.lm.forwardCachedLast(parameterStore, tokens, attentionMask, cache, pos);  // (B, 1, V)
        }
    }

    @Override
    public HfPolicy referenceCopy() {
        HfPolicy copy = fromCheckpoint(toCheckpoint(Map.of(), null), manager.getDevice());
        copy.freeze(true);
        return copy;
    }

    @Override
    public void freeze(boolean frozen) {
        block.freezeParameters(frozen);
    }

    @Override
    public void close() {
        manager.close();
    }

    // ---------------------------------------------------------------------------------------------------------

    private static void checkKind(Checkpoint checkpoint) {
        if (checkpoint.kind() != ModelKind.POLICY) {
            throw new CheckpointException("checkpoint holds a " + checkpoint.kind() + ", not a POLICY");
        }
        if (!ARCHITECTURE.equals(checkpoint.architecture())) {
            throw new CheckpointException("checkpoint architecture is '" + checkpoint.architecture() + "', expected '"
                    + ARCHITECTURE + "'");
        }
    }

    /** The Hugging Face config a checkpoint carries. */
    public static HfModelConfig configOf(Checkpoint checkpoint, int context) {
        byte[] bytes = checkpoint.modelFiles().get(HfModelConfig.FILE);
        Path label = Path.of("checkpoint", "model", HfModelConfig.FILE);
        if (bytes == null) {
            throw new CheckpointException("checkpoint of architecture '" + ARCHITECTURE + "' carries no "
                    + HfModelConfig.FILE);
        }
        try {
            JsonNode root = JSON.readTree(bytes);
            if (root == null || !root.isObject()) {
                throw new HfFormatException(label, "not a JSON object");
            }
            return HfModelConfig.fromJson(label, root, HfModelConfig.architectureOf(label, root), context);
        } catch (IOException e) {
            throw new CheckpointException("checkpoint's " + HfModelConfig.FILE + " is not valid JSON: "
                    + e.getMessage(), e);
        } catch (HfFormatException e) {
            throw new CheckpointException(e.getMessage(), e);
        }
    }

    /** A checkpoint's weights, one safetensors file held as bytes. */
    static SafetensorsWeights weightsOf(Checkpoint checkpoint) {
        try {
            return SafetensorsWeights.of(SafetensorsFile.fromBytes(Path.of("checkpoint", "model.safetensors"),
                    checkpoint.weights()));
        } catch (HfFormatException e) {
            throw new CheckpointException(e.getMessage(), e);
        }
    }

    private static int effectiveContext(HfModelConfig config, int context) {
        return context > 0 ? Math.min(context, config.contextLength()) : config.contextLength();
    }

    /**
     * Refuses a tokenizer that produces ids the embedding does not have (the embedding may be wider than the
     * tokenizer, not narrower); a folder without {@code tokenizer.json} is left to whoever needs one.
     */
    private static void checkTokenizer(Path dir, HfModelConfig config) {
        if (!Files.isRegularFile(dir.resolve(HfTokenizer.TOKENIZER_JSON))) {
            return;
        }
        try (HfTokenizer tokenizer = HfTokenizer.load(dir)) {
            if (tokenizer.vocabSize() > config.vocabSize()) {
                throw new HfFormatException(dir.resolve(HfTokenizer.TOKENIZER_JSON), "has ids up to "
                        + (tokenizer.vocabSize() - 1) + ", beyond the embedding: " + HfModelConfig.FILE
                        + "'s vocab_size is " + config.vocabSize());
            }
        }
    }

    /** The {@link #CARRIED_FILES} that {@code dir} has, by name. */
    static Map<String, byte[]> readCarried(Path dir) {
        Map<String, byte[]> out = new TreeMap<>();
        for (String name : CARRIED_FILES) {
            Path file = dir.resolve(name);
            if (Files.isRegularFile(file)) {
                try {
                    out.put(name, Files.readAllBytes(file));
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + file, e);
                }
            }
        }
        return out;
    }

    /**
     * The policy's block: the causal LM and the value head. Inputs {@code tokens (B, T)} and optionally the
     * {@code attention_mask (B, T)}; outputs logits (B, T, V) and values (B, T). With the parameter
     * {@value #LOGITS_FROM} = s the logits cover positions {@code [s, T - 1)} only: (B, T - 1 - s, V).
     */
    public static final class ValueHeadBlock extends AbstractBlock {

        /** The forward parameter that limits the logits to positions {@code [s, T - 1)} (an Integer s). */
        public static final String LOGITS_FROM = "logits.from";

        private static final byte VERSION = 1;

        private final CausalLmBase lm;
        private final int hidden;
        private final Parameter valueWeight;
        private final Parameter valueBias;

        ValueHeadBlock(CausalLmBase lm, int hidden) {
            super(VERSION);
            this.lm = addChildBlock("lm", lm);
            this.hidden = hidden;
            valueWeight = addParameter(Parameter.builder().setName(VALUE_WEIGHT).setType(Parameter.Type.WEIGHT)
                    .build());
            valueBias = addParameter(Parameter.builder().setName(VALUE_BIAS).setType(Parameter.Type.BIAS).build());
        }

        /** The causal LM. */
        public CausalLmBase lm() {
            return lm;
        }

        /** Every parameter by tensor name, the value head's included. */
        Map<String, Parameter> parametersByName() {
            Map<String, Parameter> out = new LinkedHashMap<>(lm.namedParameters().byName());
            out.put(VALUE_WEIGHT, valueWeight);
            out.put(VALUE_BIAS, valueBias);
            return out;
        }

        /** Loads the LM's tensors and the value head from {@code weights} (which must hold both). */
        void load(SafetensorsWeights weights, NDManager manager) {
            for (String name : new String[] {VALUE_WEIGHT, VALUE_BIAS}) {
                if (!weights.contains(name)) {
                    throw new HfFormatException(weights.source(), "missing tensor " + name + " (the value head)");
                }
            }
            lm.loadWeights(weights.without(VALUE_WEIGHT, VALUE_BIAS), manager);
            Shape[] expected = {new Shape(1, hidden), new Shape(1)};
            String[] names = {VALUE_WEIGHT, VALUE_BIAS};
            for (int i = 0; i < names.length; i++) {
                if (!weights.info(names[i]).shape().equals(expected[i])) {
                    throw new HfFormatException(weights.source(), "tensor " + names[i] + " has shape "
                            + weights.info(names[i]).shape() + " but the model expects " + expected[i]);
                }
            }
            valueWeight.setArray(weights.load(manager, VALUE_WEIGHT));
            valueBias.setArray(weights.load(manager, VALUE_BIAS));
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                         PairList<String, Object> params) {
            NDArray mask = inputs.size() > 1 ? inputs.get(1) : null;  // (B, T)
            NDArray hidden = lm.hiddenStates(ps, inputs.get(0), mask, training);  // (B, T, D)
            Object from = params == null ? null : params.get(LOGITS_FROM);
            NDArray logits = lm.project(ps, from == null ? hidden : PolicyModel.frame(hidden, (Integer) from),
                    training);  // (B, T, V) or (B, T - 1 - s, V)
            NDArray w = ps.getValue(valueWeight, hidden.getDevice(), training);  // (1, D)
            // a broadcast product and a sum over D, as PolicyBlock's value head (its backward is cheaper than a
            // one-column matrix product's)
            NDArray values = hidden.mul(w).sum(new int[] {-1})
                    .add(ps.getValue(valueBias, hidden.getDevice(), training));  // (B, T)
            return new NDList(logits, values);  // (B, T, V) or (B, T - 1 - s, V), (B, T)
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            Shape tokens = inputShapes[0];
            Shape logits = lm.getOutputShapes(inputShapes)[0];
            return new Shape[] {logits, new Shape(tokens.get(0), tokens.get(1))};
        }

        /** Loaded when built: a training forward must not try to initialise it (DJL does when input shapes are unset). */
        @Override
        public boolean isInitialized() {
            return valueWeight.isInitialized() && valueBias.isInitialized();
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            throw new UnsupportedOperationException("HfPolicy's weights are loaded, not initialised");
        }
    }
}
