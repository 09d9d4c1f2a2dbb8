package io.streamrlhf.learner.ppo;

import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import java.util.List;
import java.util.Objects;

/**
 * One scored response as the learner trains on it, in plain Java arrays.
 *
 * @param generationId      unique id (what the ledger records)
 * @param promptId          the prompt; samples of one prompt form a group
 * @param groupSize         samples drawn for the prompt
 * @param groupIndex        this sample's index in its group
 * @param promptTokens      the prompt's ids as the policy saw them
 * @param responseTokens    the sampled ids
 * @param behaviourLogprobs log-probability of each response id under the policy that sampled it
 * @param policyVersion     version of that policy
 * @param score             the reward of the whole response (before the learner's scaling)
 * @param ensembleStd       disagreement of the reward ensemble (reported as {@code reward/ensemble_std})
 */
public record RolloutSample(String generationId, String promptId, int groupSize, int groupIndex, int[] promptTokens,
                            int[] responseTokens, float[] behaviourLogprobs, long policyVersion, double score,
                            double ensembleStd) {

    /** Checks the parts that would otherwise fail deep inside an update. */
    public RolloutSample {
        Objects.requireNonNull(generationId, "generationId");
        Objects.requireNonNull(promptId, "promptId");
        if (promptTokens == null || promptTokens.length == 0) {
            throw new IllegalArgumentException("generation " + generationId + ": empty prompt");
        }
        if (responseTokens == null || responseTokens.length == 0) {
            throw new IllegalArgumentException("generation " + generationId + ": empty response");
        }
        if (behaviourLogprobs == null || behaviourLogprobs.length != responseTokens.length) {
            throw new IllegalArgumentException("generation " + generationId + ": "
                    + (behaviourLogprobs == null ? 0 : behaviourLogprobs.length) + " behaviour log-probs for "
                    + responseTokens.length + " response tokens");
        }
        if (!Double.isFinite(score)) {
            throw new IllegalArgumentException("generation " + generationId + ": reward " + score + " is not finite");
        }
    }

    /** The sample a {@code scored} record describes. */
    public static RolloutSample fromScored(ScoredGeneration scored) {
        Generation g = scored.getGeneration();
        return new RolloutSample(g.getGenerationId(), g.getPromptId(), g.getGroupSize(), g.getGroupIndex(),
                ints(g.getPromptTokens()), ints(g.getResponseTokens()), floats(g.getBehaviourLogprobs()),
                g.getPolicyVersion(), scored.getReward(), scored.getEnsembleStd());
    }

    /** Response tokens. */
    public int responseLength() {
        return responseTokens.length;
    }

    /** Prompt and response tokens. */
    public int sequenceLength() {
        return promptTokens.length + responseTokens.length;
    }

    private static int[] ints(List<Integer> list) {
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = list.get(i);
        }
        return out;
    }

    private static float[] floats(List<Float> list) {
        float[] out = new float[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = list.get(i);
        }
        return out;
    }
}
