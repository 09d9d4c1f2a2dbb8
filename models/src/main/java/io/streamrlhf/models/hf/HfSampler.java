package io.streamrlhf.models.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.streamrlhf.models.engine.NoGrad;
import io.streamrlhf.models.sampling.FinishReason;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.SamplingParams;
import io.streamrlhf.models.sampling.TokenSampler;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Batched sampling from a Hugging Face causal LM ({@link KvDecoding}) with the draw on the device: prompts of
 * different lengths share one left-padded batch with its attention mask, the prompt runs once into an
 * {@link HfKvCache} (only its last position projected to the vocabulary), then one token per row per step;
 * temperature, top-k and top-p filter the (B, V) logits as tensors and an inverse-CDF draw picks each id, so only B
 * ids leave the device each step (the log-probs stay there until the end).
 *
 * <p>The conventions are {@link io.streamrlhf.models.sampling.Sampler}'s, so the learner's importance ratio
 * reads the same: a recorded log-prob is that of the id under the distribution it was drawn from (logits
 * divided by the temperature, then top-k, then top-p over the top-k distribution, renormalised); temperature 0
 * or top-k 1 is greedy with log-prob 0 (the point mass used). Top-k keeps every id tied with the k-th largest
 * logit and top-p every id tied with the last one kept (transformers' warpers do the same), where the host
 * sampler keeps exactly k. The uniforms come from a {@link SplittableRandom} seeded by
 * {@link SamplingParams#seed()}, one per row per step, uploaded (B values): the same seed, prompts, weights and
 * thread count give the same ids. Not thread-safe: one sampler per thread (the model may be shared).
 *
 * <table>
 *   <caption>Dimension letters</caption>
 *   <tr><td>B</td><td>rows (prompts)</td></tr>
 *   <tr><td>P</td><td>longest prompt</td></tr>
 *   <tr><td>N</td><td>most new tokens per row</td></tr>
 *   <tr><td>V</td><td>vocabulary</td></tr>
 * </table>
 */
public final class HfSampler implements TokenSampler {

    // the largest float below 1: a uniform in [0, 1) that rounds to 1f would land past the last kept id
    private static final float BELOW_ONE = Math.nextDown(1f);

    private final KvDecoding lm;

    /** A sampler over {@code lm}. */
    public HfSampler(KvDecoding lm) {
        this.lm = lm;
    }

    /** Samples continuations of {@code prompts} (each non-empty); a row stops at {@code params.eosId()}. */
    public SampleResult sample(int[][] prompts, SamplingParams params) {
        return sample(prompts, params, new int[0]);
    }

    /**
     * Samples continuations of {@code prompts} (each non-empty); a row stops after drawing {@code params.eosId()}
     * (when not negative) or any of {@code eosIds} (a model's {@code generation_config.json} may name several),
     * included as its last token, or after {@code params.maxNewTokens()} tokens or the context length.
     */
    @Override
    public SampleResult sample(int[][] prompts, SamplingParams params, int[] eosIds) {
        if (params.eosId() >= 0 && !contains(eosIds, params.eosId())) {
            eosIds = Arrays.copyOf(eosIds, eosIds.length + 1);
            eosIds[eosIds.length - 1] = params.eosId();
        }
        int b = prompts.length;
        if (b == 0) {
            throw new IllegalArgumentException("sample: no prompts");
        }
        int vocab = lm.modelConfig().vocabSize();
        int p = 0;
        for (int i = 0; i < b; i++) {
            if (prompts[i].length == 0) {
                throw new IllegalArgumentException("sample: prompt " + i + " is empty");
            }
            for (int id : prompts[i]) {
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException("sample: prompt " + i + " holds id " + id
                            + " outside the vocabulary [0, " + vocab + ")");
                }
            }
            p = Math.max(p, prompts[i].length);
        }
        if (params.padId() >= vocab) {
            throw new IllegalArgumentException("sample: padId " + params.padId() + " outside the vocabulary [0, "
                    + vocab + ")");
        }
        int context = lm.modelConfig().contextLength();
        if (p >= context) {
            throw new IllegalArgumentException("sample: prompt length " + p + " leaves no room in context "
                    + context);
        }
        int steps = Math.min(params.maxNewTokens(), context - p);
        try (NoGrad ignored = NoGrad.enter(); NDManager call = lm.manager().newSubManager()) {
            return decode(call, prompts, p, steps, params, eosIds);
        }
    }

    private SampleResult decode(NDManager call, int[][] prompts, int p, int steps, SamplingParams params,
                                int[] eosIds) {
        int b = prompts.length;
        HfKvCache cache = lm.newCache(call, b, p + steps);
        // Without left padding every mask entry is 1 (rows that stopped keep feeding the pad id as a real token), and
        // the model's positions and attention are those it takes without a mask: skip building them every step.
        NDArray mask = padded(prompts, p)
                ? call.create(maskOf(prompts, p, steps), new Shape(b, p + steps))  // (B, P + N)
                : null;
        SplittableRandom random = new SplittableRandom(params.seed());
        int[][] out = new int[b][steps];
        int[] n = new int[b];
        FinishReason[] reasons = new FinishReason[b];
        List<NDArray> stepLogProbs = new ArrayList<>(steps);  // N x (B), on the device
        int[] next = new int[b];
        int active = b;
        for (int t = 0; t < steps && active > 0; t++) {
            try (NDManager step = call.newSubManager()) {
                // the prompt's forward projects its last position only: the others' logits are never read
                NDArray logits = t == 0
                        ? lm.lastLogits(step.create(leftPadded(prompts, p, params.padId()), new Shape(b, p)),
                                slice(mask, p), cache, 0)  // (B, 1, V)
                        : lm.logits(step.create(next, new Shape(b, 1)), slice(mask, p + t), cache,
                                p + t - 1);  // (B, 1, V)
                NDArray[] drawn = draw(logits.get(":, -1, :"), params, uniforms(random, b));  // (B), (B)
                int[] ids = drawn[0].toType(DataType.INT32, false).toIntArray();
                drawn[1].attach(call);
                stepLogProbs.add(drawn[1]);
                for (int i = 0; i < b; i++) {
                    if (reasons[i] != null) {
                        next[i] = params.padId();
                        continue;
                    }
                    out[i][n[i]++] = ids[i];
                    next[i] = ids[i];
                    if (contains(eosIds, ids[i])) {
                        reasons[i] = FinishReason.EOS;
                        active--;
                    }
                }
            }
        }
        float[] logProbs = NDArrays.stack(new NDList(stepLogProbs)).toFloatArray();  // (N', B)
        int[][] tokens = new int[b][];
        float[][] rowLogProbs = new float[b][];
        for (int i = 0; i < b; i++) {
            tokens[i] = Arrays.copyOf(out[i], n[i]);
            rowLogProbs[i] = new float[n[i]];
            for (int s = 0; s < n[i]; s++) {
                rowLogProbs[i][s] = logProbs[s * b + i];
            }
            if (reasons[i] == null) {
                reasons[i] = FinishReason.LENGTH;
            }
        }
        return new SampleResult(prompts, tokens, rowLogProbs, reasons);
    }

    /**
     * Draws one id per row of {@code logits (B, V)} with the uniforms {@code u (B)}; returns the ids (B) and
     * their log-probs (B) under the distribution drawn from.
     */
    static NDArray[] draw(NDArray logits, SamplingParams params, float[] u) {
        NDManager m = logits.getManager();
        long b = logits.getShape().get(0);
        long vocab = logits.getShape().get(1);
        if (params.temperature() == 0 || params.topK() == 1) {
            return new NDArray[] {logits.argMax(-1), m.zeros(new Shape(b))};  // (B), (B)
        }
        NDArray scaled = params.temperature() == 1 ? logits : logits.div(params.temperature());  // (B, V)
        boolean topK = params.topK() > 0 && params.topK() < vocab;
        boolean topP = params.topP() < 1.0;
        // full arrays: DJL's where does not broadcast; made only when an id may be removed
        NDArray removed = topK || topP ? m.full(scaled.getShape(), Float.NEGATIVE_INFINITY) : null;  // (B, V)
        if (topK) {
            NDArray kth = scaled.topK(params.topK(), -1, true, true).get(0)
                    .get(new NDIndex().addAllDim().addSliceDim(params.topK() - 1, params.topK()));  // (B, 1)
            scaled = NDArrays.where(scaled.lt(kth), removed, scaled);  // (B, V)
        }
        if (topP) {
            // Holtzman et al. 2020, over the top-k distribution: keep the most likely ids while the mass before
            // them is below p (the smallest prefix whose mass reaches p)
            NDArray sorted = scaled.neg().sort(-1).neg();  // (B, V), descending
            NDArray sortedProbs = sorted.softmax(-1);  // (B, V)
            NDArray massBefore = sortedProbs.cumSum(-1).sub(sortedProbs);  // (B, V)
            NDArray lastKept = NDArrays.where(massBefore.lt(params.topP()), sorted,
                    m.full(sorted.getShape(), Float.POSITIVE_INFINITY)).min(new int[] {-1}, true);  // (B, 1)
            scaled = NDArrays.where(scaled.lt(lastKept), removed, scaled);  // (B, V)
        }
        NDArray logProbs = scaled.logSoftmax(-1);  // (B, V), -inf where removed
        // inverse CDF: the first id whose cumulative mass exceeds u · total; a removed id adds no mass, so it
        // is never the first to exceed it
        NDArray cdf = logProbs.exp().cumSum(-1);  // (B, V)
        NDArray target = m.create(u, new Shape(b, 1)).mul(cdf.get(":, -1:"));  // (B, 1)
        // counted in float32 (exact below 2^24 ids): summing the booleans would first copy them to int64
        NDArray ids = cdf.lte(target).toType(DataType.FLOAT32, false).sum(new int[] {-1})
                .toType(DataType.INT64, false).minimum(vocab - 1);  // (B)
        NDArray chosen = logProbs.gather(ids.toType(DataType.INT64, false).reshape(b, 1), 1).reshape(b);  // (B)
        return new NDArray[] {ids, chosen};
    }

    private static float[] uniforms(SplittableRandom random, int b) {
        float[] u = new float[b];
        for (int i = 0; i < b; i++) {
            u[i] = Math.min((float) random.nextDouble(), BELOW_ONE);
        }
        return u;
    }

    /** 0 over each row's left padding, 1 over its prompt and every position generated after it. */
    private static int[] maskOf(int[][] prompts, int p, int steps) {
        int w = p + steps;
        int[] mask = new int[prompts.length * w];
        for (int i = 0; i < prompts.length; i++) {
            Arrays.fill(mask, i * w + p - prompts[i].length, (i + 1) * w, 1);
        }
        return mask;
    }

    private static int[] leftPadded(int[][] prompts, int p, int padId) {
        int[] flat = new int[prompts.length * p];
        Arrays.fill(flat, padId);
        for (int i = 0; i < prompts.length; i++) {
            System.arraycopy(prompts[i], 0, flat, i * p + p - prompts[i].length, prompts[i].length);
        }
        return flat;
    }

    /** Whether any prompt is shorter than the longest, {@code p}. */
    private static boolean padded(int[][] prompts, int p) {
        for (int[] prompt : prompts) {
            if (prompt.length < p) {
                return true;
            }
        }
        return false;
    }

    /** The first {@code width} positions of {@code mask (B, P + N)}; null for no mask. */
    private static NDArray slice(NDArray mask, int width) {
        return mask == null ? null : mask.get(new NDIndex().addAllDim().addSliceDim(0, width));  // (B, width)
    }

    private static boolean contains(int[] ids, int id) {
        for (int x : ids) {
            if (x == id) {
                return true;
            }
        }
        return false;
    }
}
