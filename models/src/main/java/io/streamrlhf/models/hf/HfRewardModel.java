package io.streamrlhf.models.hf;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.engine.NoGrad;
import io.streamrlhf.models.hf.gpt2.Gpt2Config;
import io.streamrlhf.models.hf.gpt2.Gpt2Model;
import io.streamrlhf.models.hf.llama.LlamaConfig;
import io.streamrlhf.models.hf.llama.LlamaModel;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;

/**
 * A Hugging Face reward model: a folder in transformers' sequence-classification layout
 * ({@code GPT2ForSequenceClassification}, {@code LlamaForSequenceClassification},
 * {@code Qwen2ForSequenceClassification}, {@code MistralForSequenceClassification}) with {@code num_labels} 1 —
 * the causal LM's backbone tensors ({@code transformer.*} or {@code model.*}) and {@code score.weight (1, D)}, no
 * {@code lm_head}. The reward of a row is the score head applied to the final hidden state at its last token that
 * is not {@code pad_token_id}, as transformers pools it; without a {@code pad_token_id} only one row at a time is
 * scored (transformers refuses larger batches too).
 *
 * <pre>{@code
 * try (HfRewardModel rm = HfRewardModel.load(dir);
 *      NDManager step = rm.manager().newSubManager()) {
 *     NDArray r = rm.rewards(step.create(ids, new Shape(1, ids.length)));  // (B)
 * }
 * }</pre>
 */
public final class HfRewardModel implements AutoCloseable {

    /** Sequence-classification class name to the causal-LM class with the same backbone. */
    private static final Map<String, String> BACKBONES = Map.of(
            "GPT2ForSequenceClassification", Gpt2Config.ARCHITECTURE,
            "LlamaForSequenceClassification", LlamaConfig.Family.LLAMA.architecture(),
            "Qwen2ForSequenceClassification", LlamaConfig.Family.QWEN2.architecture(),
            "MistralForSequenceClassification", LlamaConfig.Family.MISTRAL.architecture());

    private final Path dir;
    private final Settings settings;
    private final CausalLmBase block;
    private final NDManager manager;
    private final ParameterStore parameterStore;

    /**
     * What a reward folder's {@code config.json} says.
     *
     * @param architecture the sequence-classification class, e.g. {@code Qwen2ForSequenceClassification}
     * @param backbone     the config of the causal LM with the same backbone (its {@code architectures} names
     *                     that class)
     * @param padTokenId   {@code pad_token_id}, or null where the config has none
     */
    public record Settings(String architecture, HfModelConfig backbone, Integer padTokenId) {
    }

    private HfRewardModel(Path dir, Settings settings, CausalLmBase block, NDManager manager) {
        this.dir = dir;
        this.settings = settings;
        this.block = block;
        this.manager = manager;
        this.parameterStore = new ParameterStore(manager, false);
    }

    /**
     * The causal-LM class whose backbone the sequence-classification class {@code architecture} has, or null when
     * it is not one of the four supported.
     */
    public static String backboneArchitecture(String architecture) {
        return BACKBONES.get(architecture);
    }

    /**
     * The sequence-classification class with the backbone of the causal-LM class {@code architecture}
     * ({@code Qwen2ForCausalLM} gives {@code Qwen2ForSequenceClassification}), or null when it is not one of the four
     * supported.
     */
    public static String rewardArchitecture(String architecture) {
        return BACKBONES.entrySet().stream().filter(e -> e.getValue().equals(architecture)).map(Map.Entry::getKey)
                .findFirst().orElse(null);
    }

    /** Whether {@code dir/config.json} names a sequence-classification class; false where it cannot be read. */
    public static boolean isRewardFolder(Path dir) {
        Path file = dir.resolve(HfModelConfig.FILE);
        try {
            return backboneArchitecture(HfModelConfig.architectureOf(file, HfModelConfig.readJson(file))) != null;
        } catch (HfFormatException e) {
            return false;
        }
    }

    /**
     * Reads {@code dir/config.json} of a reward folder.
     *
     * @param context the longest sequence that will be run, or 0; as {@link HfModelConfig#read(Path, int)}
     * @throws HfFormatException naming config.json and the setting: an architecture other than the four, a label
     *                           count other than 1, or any backbone setting {@link HfModelConfig} refuses
     */
    public static Settings readSettings(Path dir, int context) {
        Path file = dir.resolve(HfModelConfig.FILE);
        return settingsOf(file, HfModelConfig.readJson(file), context);
    }

    /**
     * A reward folder's settings from {@code root}, the contents of its {@code config.json} (a checkpoint carries
     * it as bytes); {@code file} names it in messages.
     *
     * @throws HfFormatException as {@link #readSettings}
     */
    public static Settings settingsOf(Path file, JsonNode root, int context) {
        String architecture = HfModelConfig.architectureOf(file, root);
        String backbone = backboneArchitecture(architecture);
        if (backbone == null) {
            throw new HfFormatException(file, "architectures [" + architecture + "] is not a supported reward model"
                    + " (supported: " + String.join(", ", new TreeSet<>(BACKBONES.keySet())) + ")");
        }
        // transformers derives num_labels from id2label where it is not given, and defaults to 2
        JsonNode numLabels = root.get("num_labels");
        JsonNode id2label = root.get("id2label");
        if (numLabels != null && !numLabels.isNull()) {
            HfFormatException.require(file, numLabels.asInt() == 1, "num_labels (a reward model has 1)",
                    numLabels);
        } else if (id2label != null && id2label.isObject()) {
            HfFormatException.require(file, id2label.size() == 1, "id2label (a reward model has 1 label)",
                    id2label);
        } else {
            throw new HfFormatException(file, "num_labels is not set (transformers' default is 2; a reward model"
                    + " has 1)");
        }
        JsonNode pad = root.get("pad_token_id");
        Integer padTokenId = pad == null || pad.isNull() ? null : pad.asInt();
        ObjectNode asCausal = (ObjectNode) root.deepCopy();  // the backbone is read as its causal LM
        asCausal.putArray("architectures").add(backbone);
        return new Settings(architecture, HfModelConfig.fromJson(file, asCausal, backbone, context), padTokenId);
    }

    /** The block of a reward model of {@code backbone}: its backbone and a score head of one label. */
    public static CausalLmBase build(HfModelConfig backbone) {
        if (backbone instanceof Gpt2Config gpt2) {
            return Gpt2Model.builder().setConfig(gpt2).setScoreLabels(1).build();
        }
        if (backbone instanceof LlamaConfig llama) {
            return LlamaModel.builder().setConfig(llama).setScoreLabels(1).build();
        }
        throw new IllegalArgumentException("no block for " + backbone.architecture());
    }

    /** Loads {@code dir} for its full context on {@link ModelRuntime#device()}. */
    public static HfRewardModel load(Path dir) {
        return load(dir, 0, ModelRuntime.device());
    }

    /**
     * Loads {@code dir}.
     *
     * @param context the longest sequence that will be run (0: the config's maximum)
     * @throws HfFormatException naming the file and the setting or tensor refused (e.g. a missing
     *                           {@code score.weight}, an unexpected {@code lm_head.weight})
     */
    public static HfRewardModel load(Path dir, int context, Device device) {
        Settings settings = readSettings(dir, context);
        CausalLmBase block = build(settings.backbone());
        return new HfRewardModel(dir, settings, block, HfCausalLm.loadWeights(dir, block, device));
    }

    /** The folder loaded. */
    public Path dir() {
        return dir;
    }

    /** Its config. */
    public Settings settings() {
        return settings;
    }

    /** The block; its output is the score of every position (B, T, 1). */
    public CausalLmBase block() {
        return block;
    }

    /** The manager owning the weights; open per-call sub-managers from it. */
    public NDManager manager() {
        return manager;
    }

    /** Rewards (B) of {@code tokens (B, T)}, unpadded or right-padded with {@code pad_token_id}. */
    public NDArray rewards(NDArray tokens) {
        return rewards(tokens, null);
    }

    /**
     * Rewards (B) of a batch {@code tokens (B, T)} with its {@code attentionMask (B, T)} (1 for a real token, 0
     * for padding; null for none): each row's score at its last token that is not {@code pad_token_id}.
     *
     * @throws HfFormatException naming config.json's {@code pad_token_id} when it is unset and B is not 1
     */
    public NDArray rewards(NDArray tokens, NDArray attentionMask) {
        long b = tokens.getShape().get(0);
        long t = tokens.getShape().get(1);
        Integer pad = settings.padTokenId();
        if (pad == null && b != 1) {
            throw new HfFormatException(dir.resolve(HfModelConfig.FILE), "pad_token_id is not set, so the last token"
                    + " of a padded row cannot be found: score one row at a time (got " + b + "), as transformers"
                    + " refuses batches larger than 1 without a padding token");
        }
        try (NoGrad ignored = NoGrad.enter()) {
            NDList inputs = attentionMask == null ? new NDList(tokens) : new NDList(tokens, attentionMask);
            NDArray scores = block.forward(parameterStore, inputs, false).singletonOrThrow()
                    .squeeze(2);  // (B, T)
            if (pad == null) {
                return scores.get(new NDIndex(":, -1"));  // (1)
            }
            // transformers: argmax of position * (token != pad), so the last non-padding position (0 if none)
            NDArray positions = tokens.getManager().arange(0, (int) t, 1, DataType.INT64);  // (T)
            NDArray last = tokens.neq(pad).toType(DataType.INT64, false).mul(positions).argMax(1);  // (B)
            return scores.gather(last.reshape(b, 1), 1).reshape(b);  // (B)
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
