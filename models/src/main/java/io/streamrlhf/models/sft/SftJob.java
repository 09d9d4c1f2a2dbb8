package io.streamrlhf.models.sft;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.world.SyntheticWorld;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@code rlhf sft} and the demo's first start run: a fresh {@link TransformerPolicy} (seeded),
 * trained by {@link SftTrainer} on the standard world's corpus, saved as a policy checkpoint.
 */
public final class SftJob {

    /** Checkpoint metadata value naming the world the policy speaks. */
    public static final String WORLD = "synthetic-world-v1";

    private SftJob() {
    }

    /**
     * Trains and saves.
     *
     * @param config       the run
     * @param outDir       checkpoint directory (created or replaced atomically)
     * @param showProgress draw a progress bar on stderr
     * @return the measurements
     */
    public static SftResult run(SftConfig config, Path outDir, boolean showProgress) {
        SyntheticWorld world = SyntheticWorld.standard();
        SftTrainer trainer = new SftTrainer(world, config);
        try (TransformerPolicy policy = TransformerPolicy.create(config.model(), config.seed())) {
            SftResult result = trainer.train(policy, showProgress);
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("source", "sft");
            meta.put("world", WORLD);
            meta.put("version", "0");
            meta.put("sft.steps", Integer.toString(result.steps()));
            meta.put("sft.seed", Long.toString(config.seed()));
            meta.put("sft.batch_size", Integer.toString(config.batchSize()));
            meta.put("sft.heldout_perplexity", String.format("%.4f", result.finalPerplexity()));
            meta.put("sft.initial_perplexity", String.format("%.4f", result.initialPerplexity()));
            Checkpoint checkpoint = policy.toCheckpoint(meta, null);
            CheckpointStore.save(checkpoint, outDir);
            return result;
        }
    }
}
