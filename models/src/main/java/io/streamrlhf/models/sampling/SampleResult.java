package io.streamrlhf.models.sampling;

/**
 * What {@link Sampler#sample} returns, in plain Java arrays (no native memory).
 *
 * @param prompts       the prompts as given
 * @param tokens        per row, the generated ids (EOS included when drawn)
 * @param logProbs      per row, log-probability of each generated id under the distribution it was
 *                      drawn from (after temperature, top-k and top-p)
 * @param finishReasons per row, why it stopped
 */
public record SampleResult(int[][] prompts, int[][] tokens, float[][] logProbs, FinishReason[] finishReasons) {

    /** Rows in the batch. */
    public int batchSize() {
        return tokens.length;
    }

    /** Number of generated tokens of row {@code i}. */
    public int length(int i) {
        return tokens[i].length;
    }

    /** Generated tokens over all rows. */
    public int totalTokens() {
        int n = 0;
        for (int[] t : tokens) {
            n += t.length;
        }
        return n;
    }

    /** Prompt followed by response, for row {@code i}. */
    public int[] sequence(int i) {
        int[] p = prompts[i];
        int[] r = tokens[i];
        int[] s = new int[p.length + r.length];
        System.arraycopy(p, 0, s, 0, p.length);
        System.arraycopy(r, 0, s, p.length, r.length);
        return s;
    }
}
