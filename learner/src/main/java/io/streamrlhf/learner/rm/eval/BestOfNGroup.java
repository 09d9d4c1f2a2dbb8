package io.streamrlhf.learner.rm.eval;

import java.util.List;

/**
 * N responses to one prompt with their gold rewards, for Best-of-N accuracy (RMB): the reward model
 * is right when the gold-best response scores above every other.
 *
 * @param prompt    the prompt's tokens
 * @param responses the responses' tokens
 * @param gold      gold reward of each response
 */
public record BestOfNGroup(int[] prompt, List<int[]> responses, double[] gold) {

    /** Checks sizes. */
    public BestOfNGroup {
        responses = List.copyOf(responses);
        if (responses.size() < 2 || responses.size() != gold.length) {
            throw new IllegalArgumentException("BestOfNGroup: need >= 2 responses and one gold reward each, got "
                    + responses.size() + " and " + gold.length);
        }
    }

    /** Index of the gold-best response, or −1 when the best gold reward is tied. */
    public int goldBest() {
        int best = 0;
        for (int i = 1; i < gold.length; i++) {
            if (gold[i] > gold[best]) {
                best = i;
            }
        }
        for (int i = 0; i < gold.length; i++) {
            if (i != best && gold[i] == gold[best]) {
                return -1;
            }
        }
        return best;
    }
}
