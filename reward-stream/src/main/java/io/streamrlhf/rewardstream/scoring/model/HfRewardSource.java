package io.streamrlhf.rewardstream.scoring.model;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfFormatException;
import io.streamrlhf.models.hf.HfModelConfig;
import io.streamrlhf.models.hf.HfRewardModel;
import io.streamrlhf.models.hf.RewardInputs;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import io.streamrlhf.models.hf.tokenizer.TokenizerFileException;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.schemas.avro.ModelRef;
import io.streamrlhf.schemas.avro.ScoreSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Hugging Face reward model as a reward source ({@code hf:DIR}): a folder in transformers' sequence-classification
 * layout ({@link HfRewardModel}) with its own {@code tokenizer.json} and {@code tokenizer_config.json}.
 *
 * <p>The reward model has its own vocabulary, so the policy's token ids an input may carry are never used: each
 * input is tokenised from its text with the folder's tokenizer ({@link #encode(ScoringInput)}), as
 * {@link RewardInputs} renders it (the rendering {@code rlhf train-rm --model} trains on):
 * <ul>
 *   <li>When the folder has a {@code chat_template}, the input is the conversation [user: prompt, assistant:
 *       response] rendered by it without a generation prompt and encoded without adding special tokens (the
 *       template writes its own), as {@code tokenizer.apply_chat_template(conversation, tokenize=True)} does.</li>
 *   <li>Without one, the input is the prompt text followed by the response text, with one space between them where
 *       neither brings whitespace of its own (a response decoded by a SentencePiece tokenizer loses the leading
 *       space a byte-level one keeps), encoded with the tokenizer's special tokens as {@code tokenizer(text)}
 *       does.</li>
 * </ul>
 * Sequences longer than {@code maxTokens} keep their last {@code maxTokens} ids, so the response's end, where the
 * reward is read, survives. A call's inputs are sorted by length and run {@code batch} at a time, left-padded with
 * {@code pad_token_id} under an attention mask; the reward is the score at each row's last token that is not the
 * padding token, as transformers pools it. A folder whose {@code config.json} has no {@code pad_token_id} is run one
 * row at a time, as transformers refuses larger batches without one.
 *
 * <p>The kind recorded with each score is {@link ScoreSource#NEURAL_RM}: the schema's enum has no value for a
 * Hugging Face model, and this is a neural reward model run by DJL, as {@code rm:DIR} is. The model is frozen: it
 * is not hot-swapped from {@code rm.versions}. Thread-safe: the model is only read and every call has its own
 * native memory.
 */
public final class HfRewardSource implements RewardSource {

    private static final Logger LOG = LoggerFactory.getLogger(HfRewardSource.class);

    private final String name;
    private final long version;
    private final int batch;
    private final int maxTokens;
    private final HfRewardModel model;
    private final HfTokenizer tokenizer;

    private HfRewardSource(String name, long version, int batch, int maxTokens, HfRewardModel model,
                           HfTokenizer tokenizer) {
        this.name = name;
        this.version = version;
        this.batch = batch;
        this.maxTokens = maxTokens;
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /**
     * Loads the reward model and tokenizer of {@code dir} on {@link ModelRuntime#device()}.
     *
     * @param name      the scorer's name in its ensemble
     * @param version   the version recorded with every score
     * @param batch     the most rows run in one forward pass
     * @param maxTokens the longest sequence scored (longer ones keep their last tokens); 0 for the model's context
     * @throws HfFormatException      naming {@code config.json} when the folder is not a reward folder (a causal LM's
     *                                folder, say), or naming the file and setting or tensor the model refuses
     * @throws TokenizerFileException naming {@code tokenizer.json} when it is missing, or the tokenizer file refused
     * @throws IllegalArgumentException when {@code batch} is below 1, {@code maxTokens} is negative or beyond the
     *                                  model's context, or the tokenizer has ids beyond the model's embedding
     */
    public static HfRewardSource load(Path dir, String name, long version, int batch, int maxTokens) {
        return load(dir, name, version, batch, maxTokens, ModelRuntime.device());
    }

    /** As {@link #load(Path, String, long, int, int)}, on {@code device}. */
    public static HfRewardSource load(Path dir, String name, long version, int batch, int maxTokens, Device device) {
        Objects.requireNonNull(name, "name");
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("Hugging Face reward folder " + dir + " does not exist");
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch " + batch + " for " + dir + ": at least 1 row per pass");
        }
        requireRewardFolder(dir);
        int context = HfRewardModel.readSettings(dir, 0).backbone().contextLength();
        if (maxTokens < 0 || maxTokens > context) {
            throw new IllegalArgumentException("max_tokens " + maxTokens + " for " + dir + ": between 1 and the"
                    + " model's context " + context + " (" + dir.resolve(HfModelConfig.FILE) + "), or 0 for the"
                    + " context");
        }
        int length = maxTokens == 0 ? context : maxTokens;
        HfTokenizer tokenizer = HfTokenizer.load(dir);
        try {
            HfRewardModel model = HfRewardModel.load(dir, length, device);
            int vocab = model.settings().backbone().vocabSize();
            if (tokenizer.vocabSize() > vocab) {
                model.close();
                throw new IllegalArgumentException(dir.resolve(HfTokenizer.TOKENIZER_JSON) + " has ids up to "
                        + (tokenizer.vocabSize() - 1) + ", beyond the embedding of vocab_size " + vocab + " in "
                        + dir.resolve(HfModelConfig.FILE) + ": the tokenizer is not this model's");
            }
            LOG.info("reward model {} from {} ({}, {} input, at most {} tokens, at most {} per pass)", name, dir,
                    model.settings().architecture(),
                    tokenizer.chatTemplate().isModelTemplate() ? "chat-template" : "plain-text", length,
                    model.settings().padTokenId() == null ? 1 : batch);
            return new HfRewardSource(name, version, batch, length, model, tokenizer);
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
    }

    /**
     * Refuses, before any weights are read, a folder whose {@code config.json} names something other than a
     * sequence-classification model: a causal LM's folder is the usual mistake.
     */
    private static void requireRewardFolder(Path dir) {
        Path file = dir.resolve(HfModelConfig.FILE);
        JsonNode root = HfModelConfig.readJson(file);
        String architecture = HfModelConfig.architectureOf(file, root);
        if (HfRewardModel.backboneArchitecture(architecture) == null) {
            throw new HfFormatException(file, "architectures [" + architecture + "] is not a reward model: hf:DIR"
                    + " takes a Hugging Face *ForSequenceClassification folder with num_labels 1"
                    + " (GPT2ForSequenceClassification, LlamaForSequenceClassification, Qwen2ForSequenceClassification,"
                    + " MistralForSequenceClassification)"
                    + (architecture.endsWith("ForCausalLM") || architecture.endsWith("LMHeadModel")
                    ? "; " + architecture + " is a causal language model (a policy, not a scorer)" : ""));
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ScoreSource kind() {
        return ScoreSource.NEURAL_RM;
    }

    @Override
    public long version() {
        return version;
    }

    @Override
    public ModelRef modelRef() {
        return new ModelRef(name, version);
    }

    /** The most rows run in one forward pass (1 when the model has no {@code pad_token_id}). */
    public int batch() {
        return model.settings().padTokenId() == null ? 1 : batch;
    }

    /** The longest sequence scored. */
    public int maxTokens() {
        return maxTokens;
    }

    /** The reward model. */
    public HfRewardModel model() {
        return model;
    }

    /** The folder's tokenizer. */
    public HfTokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * The ids the model scores for {@code input}: its text rendered and tokenised as the class comment says, the
     * last {@link #maxTokens()} kept.
     *
     * @throws TokenizerFileException when the chat template raises for this conversation
     */
    public int[] encode(ScoringInput input) {
        int[] ids = RewardInputs.ids(tokenizer, input.promptText(), input.responseText());
        return ids.length <= maxTokens ? ids : Arrays.copyOfRange(ids, ids.length - maxTokens, ids.length);
    }

    /** Prompt then response, with a space between where neither side brings whitespace (see the class comment). */
    static String plainText(String prompt, String response) {
        return RewardInputs.plainText(prompt, response);
    }

    /**
     * Scores a batch; an input whose conversation the chat template refuses, or that has no tokens at all, gets NaN
     * (the ensemble dead-letters it or scores it without this source).
     */
    @Override
    public double[] score(List<ScoringInput> inputs) {
        int n = inputs.size();
        double[] out = new double[n];
        int[][] rows = new int[n][];
        for (int i = 0; i < n; i++) {
            try {
                rows[i] = encode(inputs.get(i));
            } catch (TokenizerFileException e) {
                LOG.warn("reward model {} cannot render {}: {}", name, inputs.get(i).id(), e.getMessage());
                rows[i] = new int[0];
            }
        }
        // Longest first, so each pass pads its rows to similar lengths.
        Integer[] order = IntStream.range(0, n).filter(i -> rows[i].length > 0).boxed()
                .sorted(Comparator.comparingInt((Integer i) -> rows[i].length).reversed())
                .toArray(Integer[]::new);
        Arrays.fill(out, Double.NaN);
        int perPass = batch();
        for (int from = 0; from < order.length; from += perPass) {
            Integer[] pass = Arrays.copyOfRange(order, from, Math.min(order.length, from + perPass));
            float[] rewards = run(pass, rows);
            for (int k = 0; k < pass.length; k++) {
                out[pass[k]] = rewards[k];
            }
        }
        return out;
    }

    /** One forward pass over {@code rows[pass[k]]}, left-padded to the longest; rewards in {@code pass} order. */
    private float[] run(Integer[] pass, int[][] rows) {
        int b = pass.length;
        int t = rows[pass[0]].length;  // sorted longest first
        Integer pad = model.settings().padTokenId();
        int padId = pad == null ? 0 : pad;  // without a pad id every pass is one unpadded row
        int[] ids = new int[b * t];
        int[] mask = new int[b * t];
        for (int k = 0; k < b; k++) {
            int[] row = rows[pass[k]];
            int offset = t - row.length;
            Arrays.fill(ids, k * t, k * t + offset, padId);
            System.arraycopy(row, 0, ids, k * t + offset, row.length);
            Arrays.fill(mask, k * t + offset, (k + 1) * t, 1);
        }
        try (NDManager step = model.manager().newSubManager()) {
            return model.rewards(step.create(ids, new Shape(b, t)),  // (B, T)
                    step.create(mask, new Shape(b, t))).toFloatArray();  // (B)
        }
    }

    /** Frees the model's weights and the native tokenizer. */
    @Override
    public void close() {
        try {
            model.close();
        } finally {
            tokenizer.close();
        }
    }
}
