package io.streamrlhf.models.hf;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.ModelKind;
import io.streamrlhf.models.critic.TransformerValueModel;
import io.streamrlhf.models.critic.ValueModel;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.safetensors.SafetensorsDtype;
import io.streamrlhf.models.hf.safetensors.SafetensorsWriter;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Hugging Face reward model as a trainable critic: the sequence-classification block of {@link HfRewardModel}
 * (backbone and {@code score.weight (1, D)}), whose score head already gives a scalar at every position; the
 * reward model reads it at the last token, the critic reads all of them as values. Loaded from a reward folder,
 * its value at a sequence's last token is, before any training, that sequence's reward.
 *
 * <p>Checkpoints ({@code REWARD_MODEL}, architecture {@value HfPolicy#ARCHITECTURE}) hold the weights as one
 * safetensors file under the folder's tensor names and carry the folder's {@code config.json} and tokenizer files,
 * as {@link HfPolicy}'s do. Weights are float32.
 */
public final class HfValueModel implements ValueModel {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HfRewardModel.Settings settings;
    private final TransformerConfig shape;
    private final Map<String, byte[]> files;
    private final int context;
    private final NDManager manager;
    private final ScoreBlock block;
    private final ParameterStore parameterStore;

    private HfValueModel(HfRewardModel.Settings settings, Map<String, byte[]> files, int context, NDManager manager,
                         ScoreBlock block) {
        HfModelConfig backbone = settings.backbone();
        this.settings = settings;
        this.files = files;
        this.context = context > 0 ? Math.min(context, backbone.contextLength()) : backbone.contextLength();
        this.manager = manager;
        this.block = block;
        this.shape = new TransformerConfig(backbone.vocabSize(), this.context, backbone.hiddenSize(),
                backbone.numLayers(), backbone.numHeads());
        this.parameterStore = new ParameterStore(manager, false);
    }

    /**
     * Loads a Hugging Face reward folder ({@link HfRewardModel}'s layout) as a critic on {@code device}, ready to
     * train.
     *
     * @param context the longest sequence that will be run (0: the config's maximum)
     * @throws HfFormatException naming the file and the setting or tensor refused
     */
    public static HfValueModel load(Path dir, int context, Device device) {
        HfRewardModel.Settings settings = HfRewardModel.readSettings(dir, context);
        Map<String, byte[]> files = HfPolicy.readCarried(dir);
        CausalLmBase lm = HfRewardModel.build(settings.backbone());
        NDManager manager = HfCausalLm.loadWeights(dir, lm, device);
        HfValueModel critic = new HfValueModel(settings, files, context, manager, new ScoreBlock(lm));
        critic.freeze(false);
        return critic;
    }

    /** As {@link #load(Path, int, Device)} on {@link ModelRuntime#device()}. */
    public static HfValueModel load(Path dir, int context) {
        return load(dir, context, ModelRuntime.device());
    }

    /** Whether {@code checkpoint} holds a critic (or reward model) of this kind. */
    public static boolean holds(Checkpoint checkpoint) {
        return checkpoint.kind() == ModelKind.REWARD_MODEL && HfPolicy.ARCHITECTURE.equals(checkpoint.architecture());
    }

    /**
     * A critic holding a checkpoint's weights ({@link #toCheckpoint}) on {@link ModelRuntime#device()}, ready to
     * train.
     *
     * @throws CheckpointException if it is not a {@code REWARD_MODEL} of architecture {@value HfPolicy#ARCHITECTURE}
     *                             or its files or weights are refused
     */
    public static HfValueModel fromCheckpoint(Checkpoint checkpoint) {
        if (!holds(checkpoint)) {
            throw new CheckpointException("checkpoint holds a " + checkpoint.kind() + " of architecture '"
                    + checkpoint.architecture() + "', not a " + ModelKind.REWARD_MODEL + " of architecture '"
                    + HfPolicy.ARCHITECTURE + "'");
        }
        int context = Integer.parseInt(checkpoint.metadata().getOrDefault(HfPolicy.CONTEXT_METADATA, "0"));
        HfRewardModel.Settings settings = settingsOf(checkpoint, context);
        CausalLmBase lm = HfRewardModel.build(settings.backbone());
        NDManager manager = ModelRuntime.init().newBaseManager(ModelRuntime.device());
        try {
            lm.loadWeights(HfPolicy.weightsOf(checkpoint), manager);
            HfValueModel critic = new HfValueModel(settings, checkpoint.modelFiles(), context, manager,
                    new ScoreBlock(lm));
            critic.freeze(false);
            return critic;
        } catch (HfFormatException e) {
            manager.close();
            throw new CheckpointException("checkpoint weights: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private static HfRewardModel.Settings settingsOf(Checkpoint checkpoint, int context) {
        byte[] bytes = checkpoint.modelFiles().get(HfModelConfig.FILE);
        Path label = Path.of("checkpoint", "model", HfModelConfig.FILE);
        if (bytes == null) {
            throw new CheckpointException("checkpoint of architecture '" + HfPolicy.ARCHITECTURE + "' carries no "
                    + HfModelConfig.FILE);
        }
        try {
            JsonNode root = JSON.readTree(bytes);
            if (root == null || !root.isObject()) {
                throw new CheckpointException(label + ": not a JSON object");
            }
            return HfRewardModel.settingsOf(label, root, context);
        } catch (IOException e) {
            throw new CheckpointException("checkpoint's " + HfModelConfig.FILE + " is not valid JSON: "
                    + e.getMessage(), e);
        } catch (HfFormatException e) {
            throw new CheckpointException(e.getMessage(), e);
        }
    }

    /** The reward folder's settings. */
    public HfRewardModel.Settings settings() {
        return settings;
    }

    /** The files its checkpoints carry ({@code config.json}, the tokenizer's where the folder had them), by name. */
    public Map<String, byte[]> files() {
        return files;
    }

    @Override
    public String architecture() {
        return HfPolicy.ARCHITECTURE;
    }

    @Override
    public TransformerConfig config() {
        return shape;
    }

    @Override
    public ScoreBlock block() {
        return block;
    }

    @Override
    public NDManager manager() {
        return manager;
    }

    @Override
    public NDArray values(NDArray tokens, NDArray attentionMask, boolean training) {
        NDList in = attentionMask == null ? new NDList(tokens) : new NDList(tokens, attentionMask);
        return block.forward(parameterStore, in, training).singletonOrThrow();  // (B, T)
    }

    @Override
    public Checkpoint toCheckpoint(Map<String, String> metadata, byte[] optimizerState) {
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put(HfPolicy.CONTEXT_METADATA, Integer.toString(context));
        meta.put(TransformerValueModel.ROLE_METADATA, TransformerValueModel.ROLE);
        meta.putIfAbsent("hf.architecture", settings.architecture());
        Map<String, NDArray> named = new TreeMap<>();
        block.lm.namedParameters().byName().forEach((name, p) -> named.put(name, p.getArray()));
        return new Checkpoint(ModelKind.REWARD_MODEL, HfPolicy.ARCHITECTURE, shape,
                SafetensorsWriter.toBytes(named, SafetensorsDtype.F32), optimizerState, meta, files);
    }

    @Override
    public void freeze(boolean frozen) {
        block.freezeParameters(frozen);
    }

    @Override
    public void close() {
        manager.close();
    }

    /**
     * The critic's block: the sequence-classification model, its score head read at every position. Inputs
     * {@code tokens (B, T)} and optionally the {@code attention_mask (B, T)}; output values (B, T).
     */
    public static final class ScoreBlock extends AbstractBlock {

        private static final byte VERSION = 1;

        private final CausalLmBase lm;

        ScoreBlock(CausalLmBase lm) {
            super(VERSION);
            this.lm = addChildBlock("lm", lm);
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                         PairList<String, Object> params) {
            NDArray mask = inputs.size() > 1 ? inputs.get(1) : null;  // (B, T)
            // through hiddenAndLogits rather than the child's forward: DJL would try to initialise a loaded child
            NDArray scores = lm.hiddenAndLogits(ps, inputs.get(0), mask, training).get(1);  // (B, T, 1)
            return new NDList(scores.squeeze(-1));  // (B, T)
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            Shape tokens = inputShapes[0];
            return new Shape[] {new Shape(tokens.get(0), tokens.get(1))};
        }

        /** Loaded when built: a training forward must not try to initialise it (DJL does when input shapes are unset). */
        @Override
        public boolean isInitialized() {
            return true;
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            throw new UnsupportedOperationException("HfValueModel's weights are loaded, not initialised");
        }
    }
}
