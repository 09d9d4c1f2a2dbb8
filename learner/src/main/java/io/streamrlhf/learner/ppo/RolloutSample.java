package io.streamrlhf.learner.ppo;

import io.streamrlhf.schemas.AvroArrays;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.ScoredGeneration;
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
 * @param referenceLogprobs log-probability of each response id the context holds under the learner's own frozen
 *                          reference, computed upstream by the reward stream; {@code null} when the learner must
 *                          compute them
 */
public record RolloutSample(String generationId, String promptId, int groupSize, int groupIndex, int[] promptTokens,
                            int[] responseTokens, float[] behaviourLogprobs, long policyVersion, double score,
                            double ensembleStd, float[] referenceLogprobs) {

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
        if (referenceLogprobs != null && referenceLogprobs.length > responseTokens.length) {
            throw new IllegalArgumentException("generation " + generationId + ": " + referenceLogprobs.length
                    + " reference log-probs for " + responseTokens.length + " response tokens");
        }
    }

    /** A sample whose reference log-probs the learner computes itself. */
    public RolloutSample(String generationId, String promptId, int groupSize, int groupIndex, int[] promptTokens,
                         int[] responseTokens, float[] behaviourLogprobs, long policyVersion, double score,
                         double ensembleStd) {
        this(generationId, promptId, groupSize, groupIndex, promptTokens, responseTokens, behaviourLogprobs,
                policyVersion, score, ensembleStd, null);
    }

    /** The sample a {@code scored} record describes, ignoring any reference log-probs it carries. */
    public static RolloutSample fromScored(ScoredGeneration scored) {
        return fromScored(scored, null);
    }

    /**
     * The sample a {@code scored} record describes, with the reference log-probs it carries when they were computed
     * by the reference {@code referenceId} names ({@code Checkpoint.weightsId()}), are finite and are no more than
     * the response; otherwise without them (the learner computes its own, so a mismatch costs time, never
     * correctness).
     */
    public static RolloutSample fromScored(ScoredGeneration scored, String referenceId) {
        Generation g = scored.getGeneration();
        float[] reference = null;
        if (referenceId != null && referenceId.equals(scored.getReferenceModel())
                && scored.getReferenceLogprobs() != null
                && scored.getReferenceLogprobs().size() <= g.getResponseTokens().size()) {
            reference = AvroArrays.toFloats(scored.getReferenceLogprobs());
            for (float v : reference) {
                if (!Float.isFinite(v)) {
                    reference = null;
                    break;
                }
            }
        }
        return new RolloutSample(g.getGenerationId(), g.getPromptId(), g.getGroupSize(), g.getGroupIndex(),
                AvroArrays.toInts(g.getPromptTokens()), AvroArrays.toInts(g.getResponseTokens()),
                AvroArrays.toFloats(g.getBehaviourLogprobs()),
                g.getPolicyVersion(), scored.getReward(), scored.getEnsembleStd(), reference);
    }

    /** Response tokens. */
    public int responseLength() {
        return responseTokens.length;
    }

    /** Prompt and response tokens. */
    public int sequenceLength() {
        return promptTokens.length + responseTokens.length;
    }
}
