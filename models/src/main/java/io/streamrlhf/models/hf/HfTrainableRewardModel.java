package io.streamrlhf.models.hf;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.safetensors.SafetensorsDtype;
import io.streamrlhf.models.hf.safetensors.SafetensorsWeights;
import io.streamrlhf.models.hf.safetensors.SafetensorsWriter;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import io.streamrlhf.models.reward.ResidualDropout;
import io.streamrlhf.models.reward.RewardModel;
import io.streamrlhf.models.reward.RewardOutput;
import io.streamrlhf.models.transformer.SeededInitializer;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Hugging Face reward model that trains: transformers' sequence-classification layout (the causal LM's backbone
 * and {@code score.weight (1, D)}, no bias) as the project's {@link RewardModel}, so the reward-model trainer and
 * its methods (Secrets of RLHF Part II) run on it, and {@link #save} writes it back as a folder that {@code hf:DIR}
 * in the reward stream and {@link HfRewardModel#load} read.
 *
 * <p>It starts from either kind of folder:
 * <ul>
 *   <li>a {@code *ForSequenceClassification} folder with {@code num_labels} 1: its backbone and score head as
 *       they are;</li>
 *   <li>a causal-LM folder ({@code GPT2LMHeadModel}, {@code LlamaForCausalLM}, {@code Qwen2ForCausalLM},
 *       {@code MistralForCausalLM}): its backbone, its {@code lm_head} dropped (freed after loading), and a new
 *       {@code score.weight} drawn from N(0, σ²) with σ the config's {@code initializer_range} (0.02 where unset),
 *       as transformers initialises the head of {@code AutoModelForSequenceClassification.from_pretrained} on a
 *       causal LM. Small rather than zero: a zero head passes no gradient to the backbone on the first step, and
 *       the members of an ensemble, each drawn from its own seed, start from different heads as Part II's
 *       ensembles do (members started from a reward folder share its head and differ in data order only).</li>
 * </ul>
 *
 * <p>The reward of a row is the score head applied to the final hidden state at its last token that is real
 * (attention mask 1) and not {@code pad_token_id}, as transformers pools it and {@link HfRewardModel} reads it; the
 * forward takes right-padded batches (the trainer's) as well as unpadded rows. {@code pad_token_id} is the folder's
 * {@code config.json} setting, or where it has none the tokenizer's padding token (its EOS where it declares none),
 * which {@link #save} then writes into the new {@code config.json}.
 *
 * <p>Weights are float32; {@link #save} writes them float32. The trainer's residual dropout for SimCSE's views
 * ({@link ResidualDropout}) drops each layer's update of the residual stream ({@link CausalLmBase}).
 *
 * <table>
 *   <caption>Dimension letters</caption>
 *   <tr><td>B</td><td>batch</td></tr>
 *   <tr><td>T</td><td>sequence length</td></tr>
 *   <tr><td>D</td><td>hidden size</td></tr>
 * </table>
 */
public final class HfTrainableRewardModel implements RewardModel, ResidualDropout {

    /** Architecture name reported by {@link #architecture()}. */
    public static final String ARCHITECTURE = "hf-reward";
    /** The tokenizer and generation files {@link #save} copies from the starting folder where it has them. */
    public static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "chat_template.jinja", "generation_config.json", "vocab.json", "merges.txt",
            "tokenizer.model", "added_tokens.json");
    /** transformers' default {@code initializer_range}. */
    static final double DEFAULT_INITIALIZER_RANGE = 0.02;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LM_HEAD = "lm_head.weight";

    private final Path source;
    private final boolean newHead;
    private final String rewardArchitecture;
    private final HfModelConfig backbone;
    private final ObjectNode configJson;
    private final int padTokenId;
    private final TransformerConfig shape;
    private final CausalLmBase block;
    private final Parameter score;
    private final NDManager manager;
    private final ParameterStore parameterStore;

    private HfTrainableRewardModel(Path source, boolean newHead, String rewardArchitecture, HfModelConfig backbone,
                                   ObjectNode configJson, int padTokenId, int context, CausalLmBase block,
                                   NDManager manager) {
        this.source = source;
        this.newHead = newHead;
        this.rewardArchitecture = rewardArchitecture;
        this.backbone = backbone;
        this.configJson = configJson;
        this.padTokenId = padTokenId;
        this.shape = new TransformerConfig(backbone.vocabSize(), context, backbone.hiddenSize(),
                backbone.numLayers(), backbone.numHeads());
        this.block = block;
        this.score = block.namedParameters().byName().get(CausalLmBase.SCORE_WEIGHT);
        this.manager = manager;
        this.parameterStore = new ParameterStore(manager, false);
    }

    /**
     * The shape a folder would load with ({@link #config()}), from its {@code config.json} alone: refuses what
     * {@link #load} refuses in the config, before any weights are read.
     *
     * @param context the longest sequence that will be run (0: the config's maximum)
     * @throws HfFormatException naming config.json and the setting refused
     */
    public static TransformerConfig shapeOf(Path dir, int context) {
        Path file = dir.resolve(HfModelConfig.FILE);
        JsonNode root = HfModelConfig.readJson(file);
        String architecture = HfModelConfig.architectureOf(file, root);
        HfModelConfig backbone = HfRewardModel.backboneArchitecture(architecture) != null
                ? HfRewardModel.readSettings(dir, context).backbone()
                : HfModelConfig.fromJson(file, root, architecture, context);
        int effective = context > 0 ? Math.min(context, backbone.contextLength()) : backbone.contextLength();
        return new TransformerConfig(backbone.vocabSize(), effective, backbone.hiddenSize(), backbone.numLayers(),
                backbone.numHeads());
    }

    /** As {@link #load(Path, int, long, Device)} on {@link ModelRuntime#device()}. */
    public static HfTrainableRewardModel load(Path dir, int context, long seed) {
        return load(dir, context, seed, ModelRuntime.device());
    }

    /**
     * Loads a sequence-classification or causal-LM folder as a reward model to train (see the class comment).
     *
     * @param context the longest sequence that will be run (0: the config's maximum)
     * @param seed    draws the new score head of a causal-LM folder; unused for a reward folder
     * @throws HfFormatException naming the file and the setting or tensor refused: an unsupported architecture, a
     *                           reward folder with more than one label, no {@code pad_token_id} and no tokenizer to
     *                           take one from, a missing or misshapen tensor
     */
    public static HfTrainableRewardModel load(Path dir, int context, long seed, Device device) {
        Path file = dir.resolve(HfModelConfig.FILE);
        JsonNode root = HfModelConfig.readJson(file);
        String architecture = HfModelConfig.architectureOf(file, root);
        boolean rewardFolder = HfRewardModel.backboneArchitecture(architecture) != null;
        HfModelConfig backbone;
        Integer pad;
        if (rewardFolder) {
            HfRewardModel.Settings settings = HfRewardModel.readSettings(dir, context);
            backbone = settings.backbone();
            pad = settings.padTokenId();
        } else {
            backbone = HfModelConfig.fromJson(file, root, architecture, context);
            JsonNode p = root.get("pad_token_id");
            pad = p == null || p.isNull() ? null : p.asInt();
        }
        String rewardArchitecture = rewardFolder ? architecture
                : HfRewardModel.rewardArchitecture(backbone.architecture());
        int padTokenId = pad != null ? pad : tokenizerPad(dir);
        if (padTokenId < 0 || padTokenId >= backbone.vocabSize()) {
            throw new HfFormatException(file, "pad_token_id " + padTokenId + " is outside the vocabulary of "
                    + backbone.vocabSize());
        }
        CausalLmBase block = HfRewardModel.build(backbone);
        NDManager manager;
        if (rewardFolder) {
            manager = HfCausalLm.loadWeights(dir, block, device);
        } else {
            CausalLmBase causal = (CausalLmBase) HfCausalLm.build(backbone);
            manager = HfCausalLm.loadWeights(dir, causal, device);
            try {
                adoptBackbone(block, causal, manager, root, seed);
            } catch (RuntimeException e) {
                manager.close();
                throw e;
            }
        }
        int effective = context > 0 ? Math.min(context, backbone.contextLength()) : backbone.contextLength();
        ObjectNode json = rewardConfig(root, rewardArchitecture, padTokenId);
        return new HfTrainableRewardModel(dir, !rewardFolder, rewardArchitecture, backbone, json, padTokenId,
                effective, block, manager);
    }

    /**
     * Moves the causal LM's backbone arrays into the reward block (the same tensor names), frees its
     * {@code lm_head} and draws the score head.
     */
    private static void adoptBackbone(CausalLmBase reward, CausalLmBase causal, NDManager manager, JsonNode root,
                                      long seed) {
        Map<String, Parameter> from = causal.namedParameters().byName();
        for (Map.Entry<String, Parameter> e : reward.namedParameters().byName().entrySet()) {
            String name = e.getKey();
            if (CausalLmBase.SCORE_WEIGHT.equals(name)) {
                JsonNode range = root.get("initializer_range");
                double std = range != null && range.isNumber() ? range.asDouble() : DEFAULT_INITIALIZER_RANGE;
                e.getValue().setArray(new SeededInitializer(seed, std).initialize(manager,
                        reward.namedParameters().shape(name), DataType.FLOAT32));  // (1, D)
            } else {
                e.getValue().setArray(from.get(name).getArray());
            }
        }
        Parameter lmHead = from.get(LM_HEAD);
        if (lmHead != null) {
            lmHead.getArray().close();  // (V, D) that nothing reads any more
        }
    }

    /** The tokenizer's padding id: the declared {@code pad_token}, else its EOS ({@link HfTokenizer#padId()}). */
    private static int tokenizerPad(Path dir) {
        if (!Files.isRegularFile(dir.resolve(HfTokenizer.TOKENIZER_JSON))) {
            throw new HfFormatException(dir.resolve(HfModelConfig.FILE), "pad_token_id is not set and the folder has no "
                    + HfTokenizer.TOKENIZER_JSON + " to take the padding token from; a reward model reads the last"
                    + " token that is not padding, so it needs one");
        }
        try (HfTokenizer tokenizer = HfTokenizer.load(dir)) {
            return tokenizer.padId();
        }
    }

    /** The starting config as a one-label sequence-classification config with {@code pad}. */
    private static ObjectNode rewardConfig(JsonNode root, String architecture, int pad) {
        ObjectNode json = root.deepCopy();
        json.putArray("architectures").add(architecture);
        json.put("num_labels", 1);
        json.putObject("id2label").put("0", "LABEL_0");
        json.putObject("label2id").put("LABEL_0", 0);
        json.put("pad_token_id", pad);
        json.put("torch_dtype", "float32");  // what save writes
        if (json.has("dtype")) {
            json.put("dtype", "float32");
        }
        return json;
    }

    /** The folder it was loaded from. */
    public Path source() {
        return source;
    }

    /** Whether the score head is new (a causal-LM folder) rather than the folder's own. */
    public boolean newHead() {
        return newHead;
    }

    /** The sequence-classification class it is saved as, e.g. {@code Qwen2ForSequenceClassification}. */
    public String rewardArchitecture() {
        return rewardArchitecture;
    }

    /** The backbone's config. */
    public HfModelConfig backbone() {
        return backbone;
    }

    /** The padding id whose positions the reward is never read at. */
    public int padTokenId() {
        return padTokenId;
    }

    /** The weights by tensor name (backbone and {@code score.weight}); the live arrays: read them, do not close them. */
    public Map<String, NDArray> namedArrays() {
        Map<String, NDArray> out = new TreeMap<>();
        block.namedParameters().byName().forEach((name, p) -> out.put(name, p.getArray()));
        return out;
    }

    /**
     * Writes the model as a Hugging Face sequence-classification folder: {@code config.json} (the starting config
     * with {@code architectures} the sequence-classification class, {@code num_labels} 1 and {@code pad_token_id}),
     * {@code model.safetensors} (float32, backbone and {@code score.weight}, no {@code lm_head}) and the
     * {@link #TOKENIZER_FILES} the starting folder has. A weights index or shards already in {@code dir} are removed,
     * so a loader finds only this model.
     *
     * @return {@code dir}
     * @throws IllegalArgumentException when {@code dir} is the folder the model was loaded from
     */
    public Path save(Path dir) {
        try {
            Files.createDirectories(dir);
            if (Files.isSameFile(source, dir)) {
                throw new IllegalArgumentException("cannot save the reward model into " + dir + ", the folder it was"
                        + " loaded from; choose another folder");
            }
            Files.deleteIfExists(dir.resolve(SafetensorsWeights.INDEX_FILE));
            try (var old = Files.newDirectoryStream(dir, "model-*-of-*.safetensors")) {
                for (Path shard : old) {
                    Files.delete(shard);
                }
            }
            Files.writeString(dir.resolve(HfModelConfig.FILE),
                    JSON.writerWithDefaultPrettyPrinter().writeValueAsString(configJson) + "\n");
            SafetensorsWriter.writeFolder(dir, namedArrays(), SafetensorsDtype.F32, 1);
            for (String name : TOKENIZER_FILES) {
                Path from = source.resolve(name);
                if (Files.isRegularFile(from)) {
                    Files.copy(from, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the reward model to " + dir, e);
        }
    }

    @Override
    public String architecture() {
        return ARCHITECTURE;
    }

    @Override
    public TransformerConfig config() {
        return shape;
    }

    /** The sequence-classification block; {@code block().getParameters()} are the backbone and score head. */
    @Override
    public CausalLmBase block() {
        return block;
    }

    @Override
    public NDManager manager() {
        return manager;
    }

    /**
     * Scores (B) and pooled hidden states (B, D) of right-padded or unpadded {@code tokens (B, T)}, each read at
     * the row's last real token that is not {@link #padTokenId()} (position 0 when there is none, as transformers).
     */
    @Override
    public RewardOutput forward(NDArray tokens, NDArray attentionMask, boolean training) {
        long t = tokens.getShape().get(1);
        NDArray hidden = block.hiddenStates(parameterStore, tokens, attentionMask, training);  // (B, T, D)
        NDArray real = tokens.neq(padTokenId).toType(DataType.FLOAT32, false);  // (B, T)
        if (attentionMask != null) {
            real = real.mul(attentionMask.toType(DataType.FLOAT32, false));  // (B, T)
        }
        NDArray positions = tokens.getManager().arange(0f, (float) t, 1f, DataType.FLOAT32);  // (T)
        NDArray last = real.mul(positions).argMax(1).toType(DataType.INT64, false);  // (B)
        // one-hot select keeps it differentiable and exact (x*1 + 0s), as RewardBlock reads its pooled state
        NDArray pick = last.oneHot((int) t, DataType.FLOAT32).expandDims(-1);  // (B, T, 1)
        NDArray pooled = hidden.mul(pick).sum(new int[] {1});  // (B, D)
        NDArray w = parameterStore.getValue(score, pooled.getDevice(), training);  // (1, D)
        NDArray scores = pooled.mul(w).sum(new int[] {1});  // (B)
        return new RewardOutput(scores, pooled);
    }

    @Override
    public float residualDropout() {
        return block.residualDropout();
    }

    @Override
    public void setResidualDropout(float rate) {
        block.setResidualDropout(rate);
    }

    @Override
    public void freeze(boolean frozen) {
        block.freezeParameters(frozen);
    }

    @Override
    public void close() {
        manager.close();
    }

    /** The config a {@link #save} writes, for messages and tests. */
    ObjectNode configJson() {
        return configJson.deepCopy();
    }
}
