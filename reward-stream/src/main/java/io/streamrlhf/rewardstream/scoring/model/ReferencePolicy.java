package io.streamrlhf.rewardstream.scoring.model;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.policy.ResponseLogProbs;
import io.streamrlhf.models.load.PolicyLoader;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.schemas.AvroArrays;
import io.streamrlhf.schemas.avro.Generation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The frozen reference policy (the SFT checkpoint the learner's KL penalty is measured against), run by the reward
 * stream beside the reward models: for each scored generation it computes the reference's log-prob of every response
 * token, which the learner would otherwise compute in its own forward on the critical path of every update
 * (DESIGN §5, r_t = −β·(log π − log π_ref)). Its {@link #id()} travels with the log-probs, and the learner uses them
 * only when its own reference has the same id.
 *
 * <p>Thread-safe: the tasks' scorer threads take turns.
 */
public final class ReferencePolicy implements AutoCloseable {
    private final PolicyModel model;
    private final String id;

    private ReferencePolicy(PolicyModel model, String id) {
        this.model = model;
        this.id = id;
    }

    /**
     * Loads a policy checkpoint directory or a Hugging Face causal-LM folder (as the learner loads its reference,
     * so both get the same weights id); {@link PolicyLoader#fromCheckpoint} refuses anything else.
     */
    public static ReferencePolicy load(Path dir) {
        Objects.requireNonNull(dir, "dir");
        Checkpoint checkpoint = PolicyLoader.initialCheckpoint(dir, 0);
        PolicyModel model = PolicyLoader.fromCheckpoint(checkpoint);
        model.freeze(true);
        return new ReferencePolicy(model, checkpoint.weightsId());
    }

    /** The reference's weights id ({@link Checkpoint#weightsId()}), what {@code reference_model} carries. */
    public String id() {
        return id;
    }

    /**
     * The reference's log-probs of each generation's response tokens that its context holds, in one forward.
     *
     * @throws IllegalArgumentException when a generation's tokens do not fit the reference (empty prompt, an id
     *                                  outside its vocabulary)
     */
    public synchronized float[][] logprobs(List<Generation> batch) {
        List<int[]> prompts = new ArrayList<>(batch.size());
        List<int[]> responses = new ArrayList<>(batch.size());
        for (Generation g : batch) {
            prompts.add(AvroArrays.toInts(g.getPromptTokens()));
            responses.add(AvroArrays.toInts(g.getResponseTokens()));
        }
        return ResponseLogProbs.compute(model, prompts, responses);
    }

    @Override
    public synchronized void close() {
        model.close();
    }
}
