package io.streamrlhf.models.sft;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.hf.HfModelConfig;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import io.streamrlhf.models.load.PolicyLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@code rlhf sft --model DIR --data FILE} runs: a Hugging Face causal LM (a model folder, or an {@value
 * HfPolicy#ARCHITECTURE} policy checkpoint such as a previous run wrote) fine-tuned by {@link CorpusSftTrainer} on a
 * {@link JsonlCorpus} encoded with its own tokenizer and chat template, saved as a policy checkpoint
 * ({@link HfPolicy#toCheckpoint}, version 0, no optimiser state) that {@code rlhf learn --init-checkpoint} and
 * {@code rlhf worker --checkpoint} load.
 */
public final class HfSftJob {

    private HfSftJob() {
    }

    /**
     * Reads the corpus (checking every line before any model is loaded), trains and saves.
     *
     * @param model        a Hugging Face causal-LM folder or an {@value HfPolicy#ARCHITECTURE} policy checkpoint
     * @param data         the JSONL corpus
     * @param config       the run
     * @param outDir       checkpoint directory (created or replaced atomically)
     * @param showProgress draw a progress bar on stderr
     * @return the measurements
     * @throws CorpusFormatException naming {@code FILE:LINE} of a bad corpus line
     * @throws CheckpointException   if {@code model} is neither a folder nor a Hugging Face policy checkpoint
     */
    public static CorpusSftResult run(Path model, Path data, CorpusSftConfig config, Path outDir,
                                      boolean showProgress) {
        JsonlCorpus corpus = JsonlCorpus.read(data);
        try (HfPolicy policy = load(model);
             HfTokenizer tokenizer = PolicyLoader.isHfFolder(model) ? HfTokenizer.load(model)
                     : HfTokenizer.fromFiles(policy.files())) {
            int context = policy.config().contextLength();
            EncodedCorpus encoded = corpus.encode(tokenizer,
                    config.maxLength() > 0 ? Math.min(config.maxLength(), context) : context);
            CorpusSftResult result = new CorpusSftTrainer(config).train(policy, encoded, tokenizer.padId(),
                    showProgress);
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("source", "sft");
            meta.put("version", "0");
            meta.put("sft.base", model.toAbsolutePath().toString());
            meta.put("sft.data", data.toAbsolutePath().toString());
            meta.put("sft.examples", Integer.toString(result.examples()));
            meta.put("sft.steps", Integer.toString(result.steps()));
            meta.put("sft.seed", Long.toString(config.seed()));
            meta.put("sft.batch_size", Integer.toString(config.batchSize()));
            meta.put("sft.learning_rate", Double.toString(config.learningRate()));
            meta.put("sft.initial_loss", String.format("%.6f", result.initialLoss()));
            meta.put("sft.final_loss", String.format("%.6f", result.finalLoss()));
            CheckpointStore.save(policy.toCheckpoint(meta, null), outDir);
            return result;
        }
    }

    /** The policy at {@code model}: a folder loaded with a zero value head, or a Hugging Face policy checkpoint. */
    private static HfPolicy load(Path model) {
        if (PolicyLoader.isHfFolder(model)) {
            return HfPolicy.load(model, 0);
        }
        if (!Files.isRegularFile(model.resolve(CheckpointStore.MANIFEST))) {
            throw new CheckpointException(model + " is neither a Hugging Face model folder (no " + HfModelConfig.FILE
                    + ") nor a policy checkpoint (no " + CheckpointStore.MANIFEST + ")");
        }
        Checkpoint checkpoint = CheckpointStore.load(model);
        if (!HfPolicy.holds(checkpoint)) {
            throw new CheckpointException(model + " holds a " + checkpoint.kind() + " checkpoint of architecture '"
                    + checkpoint.architecture() + "'; --model takes a Hugging Face folder or a '"
                    + HfPolicy.ARCHITECTURE + "' policy checkpoint (the synthetic world's policy trains with "
                    + "rlhf sft without --model)");
        }
        return HfPolicy.fromCheckpoint(checkpoint);
    }
}
