package io.streamrlhf.models.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.streamrlhf.models.engine.NoGrad;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.transformer.KvCache;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Batched autoregressive sampling with exact behaviour log-probs.
 *
 * <p>Prompts of different lengths share one batch by left padding: each row's positions start at
 * its first real token and no real token attends to padding, so a row's logits equal those of a
 * training forward over the same tokens with no padding (the PPO ratio starts at 1). For
 * {@link TransformerPolicy} the keys and values live in a preallocated {@link KvCache}: the prompt
 * runs once, then one token per step. Other {@link PolicyModel}s (e.g. TorchScript) are run with a
 * full forward per step.
 *
 * <p>The categorical draw happens in Java over the (B, V) logits copied to the host: the
 * vocabulary is small, the draw is then seeded by a {@link SplittableRandom} and reproducible,
 * and the log-prob returned is that of the distribution actually used (after temperature, top-k
 * and top-p). Not thread-safe: use one sampler per thread (the policy may be shared).
 */
public final class Sampler implements TokenSampler {

    private final PolicyModel policy;
    private final boolean useKvCache;
    private final TokenDraw draw;

    /** A sampler over {@code policy}, with a KV cache when the policy supports one. */
    public Sampler(PolicyModel policy) {
        this(policy, true);
    }

    /**
     * A sampler over {@code policy}; {@code useKvCache=false} forces a full forward per step (the
     * reference behaviour the cache is tested against).
     */
    public Sampler(PolicyModel policy, boolean useKvCache) {
        this.policy = policy;
        this.useKvCache = useKvCache && policy instanceof TransformerPolicy;
        this.draw = new TokenDraw(policy.config().vocabSize());
    }

    /** Samples continuations of {@code prompts} (each non-empty). */
    public SampleResult sample(List<int[]> prompts, SamplingParams params) {
        return sample(prompts.toArray(new int[0][]), params);
    }

    /** Samples continuations of {@code prompts} (each non-empty); a row stops at {@code params.eosId()}. */
    public SampleResult sample(int[][] prompts, SamplingParams params) {
        return sample(prompts, params, new int[0]);
    }

    @Override
    public SampleResult sample(int[][] prompts, SamplingParams params, int[] stopIds) {
        try (NoGrad ignored = NoGrad.enter()) {
            return sampleWithoutGradients(prompts, params, stopIds);
        }
    }

    private SampleResult sampleWithoutGradients(int[][] prompts, SamplingParams params, int[] stopIds) {
        int b = prompts.length;
        if (b == 0) {
            throw new IllegalArgumentException("sample: no prompts");
        }
        int context = policy.config().contextLength();
        int vocab = policy.config().vocabSize();
        int[] lens = new int[b];
        int p = 0;
        boolean ragged = false;
        for (int i = 0; i < b; i++) {
            lens[i] = prompts[i].length;
            if (lens[i] == 0) {
                throw new IllegalArgumentException("sample: prompt " + i + " is empty");
            }
            for (int id : prompts[i]) {
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException("sample: prompt " + i + " holds id " + id
                            + " outside the vocabulary [0, " + vocab + ")");
                }
            }
            ragged |= i > 0 && lens[i] != lens[0];
            p = Math.max(p, lens[i]);
        }
        if (p >= context) {
            throw new IllegalArgumentException("sample: prompt length " + p + " leaves no room in context "
                    + context);
        }
        int steps = Math.min(params.maxNewTokens(), context - p);

        int[][] out = new int[b][steps];
        float[][] outLogp = new float[b][steps];
        int[] n = new int[b];
        FinishReason[] reasons = new FinishReason[b];
        SplittableRandom random = new SplittableRandom(params.seed());
        double[] lp = new double[1];
        int[] next = new int[b];

        try (Decoder decoder = useKvCache
                ? new CachedDecoder((TransformerPolicy) policy, prompts, lens, p, steps, ragged, params.padId())
                : new FullDecoder(policy, prompts, lens, p, steps, ragged, params.padId())) {
            float[] logits = decoder.prompt();  // (B, V) on the host
            int active = b;
            for (int t = 0; t < steps; t++) {
                for (int i = 0; i < b; i++) {
                    if (reasons[i] != null) {
                        next[i] = params.padId();
                        continue;
                    }
                    int id = draw.draw(logits, i * vocab, params, random, lp);
                    out[i][n[i]] = id;
                    outLogp[i][n[i]] = (float) lp[0];
                    n[i]++;
                    next[i] = id;
                    if (id == params.eosId() || contains(stopIds, id)) {
                        reasons[i] = FinishReason.EOS;
                        active--;
                    }
                }
                if (active == 0 || t == steps - 1) {
                    break;
                }
                logits = decoder.step(next, t);
            }
        }
        int[][] tokens = new int[b][];
        float[][] logProbs = new float[b][];
        for (int i = 0; i < b; i++) {
            tokens[i] = Arrays.copyOf(out[i], n[i]);
            logProbs[i] = Arrays.copyOf(outLogp[i], n[i]);
            if (reasons[i] == null) {
                reasons[i] = FinishReason.LENGTH;
            }
        }
        return new SampleResult(prompts, tokens, logProbs, reasons);
    }

    private static boolean contains(int[] ids, int id) {
        for (int x : ids) {
            if (x == id) {
                return true;
            }
        }
        return false;
    }

    /** Produces next-token logits (B, V) on the host, one step at a time. */
    private interface Decoder extends AutoCloseable {
        float[] prompt();

        /** Feeds one token per row (the t-th generated) and returns the logits after it. */
        float[] step(int[] tokens, int t);

        @Override
        void close();
    }

    /** The fast path: prompt once into the KV cache, then one position per step. */
    private static final class CachedDecoder implements Decoder {
        private final TransformerPolicy policy;
        private final NDManager call;
        private final KvCache cache;
        private final int b;
        private final int p;
        private final int[] lens;
        private final int[][] prompts;
        private final boolean ragged;
        private final int padId;
        private final NDArray stepPositions;
        private final NDArray keyBias;

        CachedDecoder(TransformerPolicy policy, int[][] prompts, int[] lens, int p, int steps, boolean ragged,
                      int padId) {
            this.policy = policy;
            this.prompts = prompts;
            this.lens = lens;
            this.b = prompts.length;
            this.p = p;
            this.ragged = ragged;
            this.padId = padId;
            this.call = policy.manager().newSubManager();
            this.cache = new KvCache(call, policy.config(), b, p + steps);
            // Everything a decoding step needs besides its tokens is known now: build it once and
            // slice views per step instead of copying from Java every step.
            long[] pos = new long[b * steps];
            for (int i = 0; i < b; i++) {
                for (int t = 0; t < steps; t++) {
                    pos[i * steps + t] = lens[i] + t;
                }
            }
            this.stepPositions = call.create(pos, new Shape(b, steps));  // (B, N)
            if (ragged) {
                int s = p + steps;
                float[] kb = new float[b * s];
                for (int i = 0; i < b; i++) {
                    Arrays.fill(kb, i * s, i * s + (p - lens[i]), Float.NEGATIVE_INFINITY);
                }
                this.keyBias = call.create(kb, new Shape(b, 1, 1, s));  // (B, 1, 1, P + N)
            } else {
                this.keyBias = null;
            }
        }

        @Override
        public float[] prompt() {
            try (NDManager step = call.newSubManager()) {
                int[] flat = new int[b * p];
                long[] pos = new long[b * p];
                for (int i = 0; i < b; i++) {
                    int off = p - lens[i];
                    Arrays.fill(flat, i * p, i * p + off, padId);
                    System.arraycopy(prompts[i], 0, flat, i * p + off, lens[i]);
                    for (int j = off; j < p; j++) {
                        pos[i * p + j] = j - off;
                    }
                }
                NDArray tokens = step.create(flat, new Shape(b, p));  // (B, P)
                NDArray posArr = step.create(pos, new Shape(b, p));  // (B, P)
                NDArray bias = step.create(promptBias(), ragged ? new Shape(b, 1, p, p) : new Shape(1, 1, p, p));
                return policy.decodeLastLogits(tokens, posArr, bias, cache, 0).toFloatArray();  // (B, V)
            }
        }

        /** Causal, no padded keys, padded queries see themselves (keeps them finite). */
        private float[] promptBias() {
            int rows = ragged ? b : 1;
            float[] bias = new float[rows * p * p];
            for (int r = 0; r < rows; r++) {
                int off = p - lens[r];
                for (int i = 0; i < p; i++) {
                    for (int j = 0; j < p; j++) {
                        boolean allowed = j <= i && (j >= off || j == i);
                        bias[(r * p + i) * p + j] = allowed ? 0f : Float.NEGATIVE_INFINITY;
                    }
                }
            }
            return bias;
        }

        @Override
        public float[] step(int[] next, int t) {
            int pos = p + t;  // cache slot written this step
            try (NDManager step = call.newSubManager()) {
                NDArray tokens = step.create(next, new Shape(b, 1));  // (B, 1)
                NDArray posArr = stepPositions.get(new NDIndex().addAllDim().addSliceDim(t, t + 1));  // (B, 1)
                NDArray bias = keyBias == null ? null
                        : keyBias.get(new NDIndex().addAllDim(3).addSliceDim(0, pos + 1));  // (B, 1, 1, S)
                NDArray logits = policy.decodeLastLogits(tokens, posArr, bias, cache, pos);  // (B, V)
                posArr.attach(step);
                if (bias != null) {
                    bias.attach(step);
                }
                return logits.toFloatArray();
            }
        }

        @Override
        public void close() {
            call.close();
        }
    }

    /** Any policy: the whole (left-padded) sequence so far through a training-style forward. */
    private static final class FullDecoder implements Decoder {
        private final PolicyModel policy;
        private final int b;
        private final int p;
        private final int width;
        private final boolean ragged;
        private final int[] flat;
        private final float[] mask;
        private int filled;

        FullDecoder(PolicyModel policy, int[][] prompts, int[] lens, int p, int steps, boolean ragged, int padId) {
            this.policy = policy;
            this.b = prompts.length;
            this.p = p;
            this.width = p + steps;
            this.ragged = ragged;
            this.flat = new int[b * width];
            this.mask = new float[b * width];
            Arrays.fill(flat, padId);
            for (int i = 0; i < b; i++) {
                int off = p - lens[i];
                System.arraycopy(prompts[i], 0, flat, i * width + off, lens[i]);
                Arrays.fill(mask, i * width + off, i * width + width, 1f);
            }
            this.filled = p;
        }

        @Override
        public float[] prompt() {
            return forward();
        }

        @Override
        public float[] step(int[] next, int t) {
            for (int i = 0; i < b; i++) {
                flat[i * width + p + t] = next[i];
            }
            filled = p + t + 1;
            return forward();
        }

        private float[] forward() {
            try (NDManager step = policy.manager().newSubManager()) {
                NDArray all = step.create(flat, new Shape(b, width));  // (B, W)
                NDArray tokens = all.get(":, :{}", filled);  // (B, T)
                NDArray m = ragged ? step.create(mask, new Shape(b, width)).get(":, :{}", filled) : null;  // (B, T)
                NDArray logits = policy.forward(tokens, m, false).logits();  // (B, T, V)
                return logits.get(":, -1, :").toFloatArray();  // (B, V)
            }
        }

        @Override
        public void close() {
            // nothing held between steps
        }
    }
}
