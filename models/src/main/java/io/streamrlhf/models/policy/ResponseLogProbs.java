package io.streamrlhf.models.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.streamrlhf.models.engine.NoGrad;
import java.util.List;

/**
 * Log-probabilities of sampled responses under a policy, one batched forward for many (prompt, response) pairs,
 * packed as the PPO learner packs them: each row is the prompt then the response, right-padded, and a response
 * that overflows the context is cut at it. Row i's result therefore has {@code min(response, context − prompt)}
 * entries, the ones the learner trains on; a prompt that fills the context (which the learner drops) gets none.
 *
 * <p>The reward stream uses it to compute the frozen reference's log-probs beside the reward models, so that the
 * learner need not run the reference itself (see {@code ScoredGeneration.reference_logprobs}).
 */
public final class ResponseLogProbs {

    private ResponseLogProbs() {
    }

    /**
     * @param model     the policy; only read, inside a no-gradient scope
     * @param prompts   prompt ids of each row, non-empty
     * @param responses response ids of each row, as many as prompts
     * @return per row, log p(response[j] | prompt, response[..j]) for the response tokens the context holds
     */
    public static float[][] compute(PolicyModel model, List<int[]> prompts, List<int[]> responses) {
        if (prompts.size() != responses.size()) {
            throw new IllegalArgumentException(prompts.size() + " prompts but " + responses.size() + " responses");
        }
        int b = prompts.size();
        int context = model.config().contextLength();
        int vocabulary = model.config().vocabSize();
        float[][] out = new float[b][];
        int[] kept = new int[b];
        int t = 2;
        for (int i = 0; i < b; i++) {
            int p = prompts.get(i).length;
            if (p == 0) {
                throw new IllegalArgumentException("row " + i + " has an empty prompt");
            }
            kept[i] = Math.max(0, Math.min(responses.get(i).length, context - p));
            out[i] = new float[kept[i]];
            if (kept[i] > 0) {
                t = Math.max(t, p + kept[i]);
            }
        }
        int f = t - 1;
        int[] tokens = new int[b * t];
        float[] attention = new float[b * t];
        int[] actions = new int[b * f];
        for (int i = 0; i < b; i++) {
            if (kept[i] == 0) {
                attention[i * t] = 1f;  // a one-token row, computed and ignored, so the batch keeps one shape
                continue;
            }
            int[] prompt = prompts.get(i);
            int[] response = responses.get(i);
            for (int j = 0; j < prompt.length + kept[i]; j++) {
                int id = j < prompt.length ? prompt[j] : response[j - prompt.length];
                if (id < 0 || id >= vocabulary) {
                    throw new IllegalArgumentException("row " + i + ": token id " + id + " at position " + j
                            + " is outside the vocabulary of " + vocabulary);
                }
                tokens[i * t + j] = id;
                attention[i * t + j] = 1f;
                if (j > 0) {
                    actions[i * f + j - 1] = id;
                }
            }
        }
        try (NoGrad ignored = NoGrad.enter(); NDManager m = model.manager().newSubManager()) {
            NDArray tokenArray = m.create(tokens, new Shape(b, t));  // (B, T)
            NDArray attentionArray = m.create(attention, new Shape(b, t));  // (B, T)
            NDArray actionArray = m.create(actions, new Shape(b, f)).toType(DataType.INT64, false);  // (B, F)
            // the logits from the shortest kept prompt's last position on: the positions before it score no response
            int from = t - 1;
            for (int i = 0; i < b; i++) {
                if (kept[i] > 0) {
                    from = Math.min(from, prompts.get(i).length - 1);
                }
            }
            int frame = t - 1 - from;
            PolicyOutput forward = model.forwardFrame(tokenArray, attentionArray, false, from);
            forward.logits().attach(m);
            forward.values().attach(m);
            NDArray frameActions = actionArray.split(new long[] {from}, 1).get(1);  // (B, F'): actions from + 1 on
            float[] logp = LogProbs.gather(forward.logits(), frameActions).toFloatArray();  // (B, F')
            for (int i = 0; i < b; i++) {
                if (kept[i] > 0) {
                    // Frame entry p − 1 − from + j scores response token j.
                    System.arraycopy(logp, i * frame + prompts.get(i).length - 1 - from, out[i], 0, kept[i]);
                }
            }
        }
        return out;
    }
}
