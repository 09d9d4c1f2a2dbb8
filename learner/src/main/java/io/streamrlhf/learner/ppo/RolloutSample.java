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
 *                          compute them; they are the raw reference's (temperature 1), as the reward stream
 *                          computes them, so the learner reads them only for samples drawn at temperature 1
 * @param temperature       the sampling temperature the worker divided the logits by ({@code sampling.temperature}),
 *                          under which {@code behaviourLogprobs} were recorded; 0 is greedy
 */
public record RolloutSample(String generationId, String promptId, int groupSize, int groupIndex, int[] promptTokens,
                            int[] responseTokens, float[] behaviourLogprobs, long policyVersion, double score,
                            double ensembleStd, float[] referenceLogprobs, double temperature) {

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
        for (int t = 0; t < behaviourLogprobs.length; t++) {
            if (!Float.isFinite(behaviourLogprobs[t])) {
                throw new IllegalArgumentException("generation " + generationId + ": behaviour log-prob "
                        + behaviourLogprobs[t] + " at response position " + t + " is not finite");
            }
        }
        if (!Double.isFinite(score)) {
            throw new IllegalArgumentException("generation " + generationId + ": reward " + score + " is not finite");
        }
        if (referenceLogprobs != null && referenceLogprobs.length > responseTokens.length) {
            throw new IllegalArgumentException("generation " + generationId + ": " + referenceLogprobs.length
                    + " reference log-probs for " + responseTokens.length + " response tokens");
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("generation " + generationId + ": sampling temperature " + temperature
                    + " is not finite and >= 0");
        }
    }

    /** A sample drawn at temperature 1, with reference log-probs given upstream ({@code null}: none). */
    public RolloutSample(String generationId, String promptId, int groupSize, int groupIndex, int[] promptTokens,
                         int[] responseTokens, float[] behaviourLogprobs, long policyVersion, double score,
                         double ensembleStd, float[] referenceLogprobs) {
        this(generationId, promptId, groupSize, groupIndex, promptTokens, responseTokens, behaviourLogprobs,
                policyVersion, score, ensembleStd, referenceLogprobs, 1.0);
    }

    /** A sample drawn at temperature 1 whose reference log-probs the learner computes itself. */
    public RolloutSample(String generationId, String promptId, int groupSize, int groupIndex, int[] promptTokens,
                         int[] responseTokens, float[] behaviourLogprobs, long policyVersion, double score,
                         double ensembleStd) {
        this(generationId, promptId, groupSize, groupIndex, promptTokens, responseTokens, behaviourLogprobs,
                policyVersion, score, ensembleStd, null, 1.0);
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
                g.getPolicyVersion(), scored.getReward(), scored.getEnsembleStd(), reference,
                g.getSampling().getTemperature());
    }

    /**
     * As {@link #fromScored(ScoredGeneration, String)}, and refuses a record whose prompt or response holds a token
     * id outside {@code [0, vocabularySize)}: such an id would index past the embedding table inside an update, so
     * the learner dead-letters the record before it reaches a model.
     *
     * @throws IllegalArgumentException naming the generation, the token, its position and the vocabulary size
     */
    public static RolloutSample fromScored(ScoredGeneration scored, String referenceId, int vocabularySize) {
        RolloutSample sample = fromScored(scored, referenceId);
        requireInVocabulary(sample.generationId(), "prompt", sample.promptTokens(), vocabularySize);
        requireInVocabulary(sample.generationId(), "response", sample.responseTokens(), vocabularySize);
        return sample;
    }

    private static void requireInVocabulary(String generationId, String part, int[] tokens, int vocabularySize) {
        for (int t = 0; t < tokens.length; t++) {
            if (tokens[t] < 0 || tokens[t] >= vocabularySize) {
                throw new IllegalArgumentException("generation " + generationId + ": " + part + " token id "
                        + tokens[t] + " at position " + t + " is outside the policy's vocabulary of "
                        + vocabularySize + " ids");
            }
        }
    }

    /**
     * The temperature the learner divides this sample's logits by, so that its log-probs are those of the
     * distribution the worker drew from: the sampling temperature, or 1 for a greedy sample (temperature 0), whose
     * point mass no finite temperature reproduces (its behaviour log-probs are 0, so its importance weights are the
     * raw policy's probabilities, truncated as any other).
     */
    public double logitTemperature() {
        return temperature > 0 ? temperature : 1.0;
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
