package io.streamrlhf.models.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.checkpoint.ModelKind;
import io.streamrlhf.models.critic.TransformerValueModel;
import io.streamrlhf.models.critic.ValueModel;
import io.streamrlhf.models.hf.HfModelConfig;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.hf.HfRewardModel;
import io.streamrlhf.models.hf.HfValueModel;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.reward.TransformerRewardModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Separate critics by where they come from: a reward model to initialise one from (a reward-model checkpoint of
 * the project's own transformer, a Hugging Face reward folder, or a checkpoint made from one), or a critic a learner
 * checkpoint saved. Every critic is checked against the policy it will judge: it reads the policy's token ids, so
 * it must share the policy's tokenization (same family of model, same vocabulary size, and for Hugging Face models
 * the same {@code tokenizer.json} vocabulary where both carry one) and cover the policy's context.
 */
public final class CriticLoader {

    private static final Logger LOG = LoggerFactory.getLogger(CriticLoader.class);
    private static final String TOKENIZER = "tokenizer.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private CriticLoader() {
    }

    /**
     * A critic initialised from the reward model at {@code source} (Secrets of RLHF I, 5.3.3: the critic starts as
     * the reward model, so its value at a sequence's last token is the sequence's reward), for {@code policy}.
     *
     * @param source a reward-model checkpoint directory or a Hugging Face reward folder (sequence classification,
     *               {@code num_labels} 1)
     * @throws IllegalArgumentException naming {@code source} when it does not share the policy's tokenization or
     *                                  context, or is not a reward model
     */
    public static ValueModel fromRewardModel(Path source, PolicyModel policy) {
        if (!Files.isDirectory(source)) {
            throw new IllegalArgumentException("critic initialisation: " + source + " is not a directory (expected a "
                    + "reward-model checkpoint or a Hugging Face reward folder)");
        }
        if (HfRewardModel.isRewardFolder(source)) {
            HfPolicy hf = requireHfPolicy(policy, source.toString());
            int context = policy.config().contextLength();
            // the settings and files first: a refusal costs no weights loaded
            HfRewardModel.Settings settings = HfRewardModel.readSettings(source, context);
            checkVocabulary(settings.backbone().vocabSize(), policy, source.toString());
            checkTokenizers(hf, readTokenizer(source), source.toString());
            return HfValueModel.load(source, context);
        }
        if (PolicyLoader.isHfFolder(source)) {
            throw new IllegalArgumentException("critic initialisation: " + source.resolve(HfModelConfig.FILE)
                    + " names a causal LM, not a reward model: a critic starts from a sequence-classification folder "
                    + "(backbone and score.weight, num_labels 1) or a reward-model checkpoint");
        }
        return fromCheckpoint(CheckpointStore.load(source), policy, source.toString());
    }

    /**
     * A critic holding {@code checkpoint} (a saved critic, {@link ValueModel#toCheckpoint}, or a reward model), for
     * {@code policy}.
     *
     * @throws IllegalArgumentException as {@link #fromRewardModel}
     */
    public static ValueModel fromCheckpoint(Checkpoint checkpoint, PolicyModel policy) {
        return fromCheckpoint(checkpoint, policy, "the critic checkpoint");
    }

    private static ValueModel fromCheckpoint(Checkpoint checkpoint, PolicyModel policy, String source) {
        if (checkpoint.kind() != ModelKind.REWARD_MODEL) {
            throw new IllegalArgumentException("critic initialisation: " + source + " holds a " + checkpoint.kind()
                    + ", not a " + ModelKind.REWARD_MODEL + ": a critic starts from a reward model");
        }
        int context = policy.config().contextLength();
        switch (checkpoint.architecture()) {
            case TransformerRewardModel.ARCHITECTURE -> {
                if (!(policy instanceof TransformerPolicy)) {
                    throw mixed(source, "a '" + TransformerRewardModel.ARCHITECTURE + "' reward model", policy);
                }
                checkVocabulary(checkpoint.config().vocabSize(), policy, source);
                checkContext(checkpoint.config().contextLength(), context, source);
                return TransformerValueModel.fromCheckpoint(checkpoint);
            }
            case HfPolicy.ARCHITECTURE -> {
                HfPolicy hf = requireHfPolicy(policy, source);
                checkVocabulary(checkpoint.config().vocabSize(), policy, source);
                checkContext(checkpoint.config().contextLength(), context, source);
                checkTokenizers(hf, checkpoint.modelFiles().get(TOKENIZER), source);
                return HfValueModel.fromCheckpoint(checkpoint);
            }
            default -> throw new IllegalArgumentException("critic initialisation: " + source + " is a reward model "
                    + "of architecture '" + checkpoint.architecture() + "', which cannot be trained as a critic "
                    + "(expected '" + TransformerRewardModel.ARCHITECTURE + "' or '" + HfPolicy.ARCHITECTURE + "')");
        }
    }

    private static HfPolicy requireHfPolicy(PolicyModel policy, String source) {
        if (policy instanceof HfPolicy hf) {
            return hf;
        }
        throw mixed(source, "a Hugging Face reward model", policy);
    }

    private static IllegalArgumentException mixed(String source, String what, PolicyModel policy) {
        return new IllegalArgumentException("critic initialisation: " + source + " is " + what + " but the policy is "
                + "a '" + policy.architecture() + "' policy; the critic reads the policy's token ids and must share its "
                + "tokenization (a project transformer critic for a project transformer policy, a Hugging Face one "
                + "for a Hugging Face policy)");
    }

    private static void checkVocabulary(int criticVocab, PolicyModel policy, String source) {
        int policyVocab = policy.config().vocabSize();
        if (criticVocab != policyVocab) {
            throw new IllegalArgumentException("critic initialisation: " + source + " has a vocabulary of " + criticVocab
                    + " ids but the policy has " + policyVocab + "; the critic reads the policy's token ids and must "
                    + "share its tokenization");
        }
    }

    private static void checkContext(int criticContext, int policyContext, String source) {
        if (criticContext < policyContext) {
            throw new IllegalArgumentException("critic initialisation: " + source + " runs at most " + criticContext
                    + " positions but the policy's sequences run to " + policyContext);
        }
    }

    /**
     * Refuses a critic whose {@code tokenizer.json} maps ids to other tokens than the policy's: the two files' models
     * (vocabulary, merges) and added tokens must be equal as JSON (their formatting, padding and truncation settings
     * may differ). Where either has no tokenizer file the vocabulary size is all that was compared, and that is
     * logged.
     */
    private static void checkTokenizers(HfPolicy policy, byte[] criticTokenizer, String source) {
        byte[] policyTokenizer = policy.files().get(TOKENIZER);
        if (policyTokenizer == null || criticTokenizer == null) {
            LOG.warn("critic {}: {} has no {}; only the vocabulary sizes were compared", source,
                    policyTokenizer == null ? "the policy" : "the reward model", TOKENIZER);
            return;
        }
        JsonNode ours = tokenizerJson(policyTokenizer, "the policy's " + TOKENIZER);
        JsonNode theirs = tokenizerJson(criticTokenizer, source + "'s " + TOKENIZER);
        for (String field : new String[] {"model", "added_tokens"}) {
            if (!ours.path(field).equals(theirs.path(field))) {
                throw new IllegalArgumentException("critic initialisation: " + source + "'s " + TOKENIZER + " differs "
                        + "from the policy's in '" + field + "'; the critic reads the policy's token ids and must "
                        + "share its tokenization");
            }
        }
    }

    private static JsonNode tokenizerJson(byte[] bytes, String what) {
        try {
            JsonNode root = JSON.readTree(bytes);
            if (root == null || !root.isObject()) {
                throw new IllegalArgumentException("critic initialisation: " + what + " is not a JSON object");
            }
            return root;
        } catch (IOException e) {
            throw new IllegalArgumentException("critic initialisation: " + what + " is not valid JSON: "
                    + e.getMessage(), e);
        }
    }

    private static byte[] readTokenizer(Path dir) {
        Path file = dir.resolve(TOKENIZER);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("critic initialisation: cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
