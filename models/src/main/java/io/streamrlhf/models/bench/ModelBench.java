package io.streamrlhf.models.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.LogProbs;
import io.streamrlhf.models.policy.PolicyOutput;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.Sampler;
import io.streamrlhf.models.sampling.SamplingParams;
import io.streamrlhf.models.sft.SftConfig;
import io.streamrlhf.models.training.Gradients;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Consumer;

/**
 * The models benchmark: the same work as {@code shared/tools/torch-baseline/ppo_bench.py} (PyTorch
 * eager), so the two figures compare directly.
 *
 * <ul>
 *   <li>{@code sample_tokens_per_s}: batch x new-tokens / time of one KV-cached ancestral sampling
 *       call (temperature 1, no EOS, random prompts of {@code prompt} tokens).</li>
 *   <li>{@code train_seq_per_s}: batch / time of one PPO minibatch update on the sampled batch:
 *       policy forward, frozen-reference forward, clipped policy loss, clipped value loss, k3 KL to
 *       the reference, entropy bonus, backward, global-norm clip 1.0, AdamW (lr 1e-4, wd 0.01).</li>
 *   <li>{@code max_logprob_diff}: largest |sampler log-prob - training-forward log-prob| over the
 *       sampled tokens (PPO's first ratio is 1 when this is ~0).</li>
 * </ul>
 * Each figure runs three warm-up calls, then repeats for at least {@code seconds}.
 */
public final class ModelBench {

    /**
     * Benchmark settings; names match the baseline's flags.
     *
     * @param vocab     vocabulary size
     * @param dModel    model width
     * @param layers    transformer layers
     * @param heads     attention heads
     * @param context   position table size
     * @param batch     rows per sampling call and per update
     * @param prompt    prompt tokens
     * @param newTokens sampled tokens per row
     * @param threads   PyTorch intra-op threads
     * @param seconds   measuring time per figure
     * @param seed      seed for weights, prompts and draws
     */
    public record Config(int vocab, int dModel, int layers, int heads, int context, int batch, int prompt,
                         int newTokens, int threads, double seconds, long seed) {

        /** Checks the settings as the baseline does. */
        public Config {
            if (prompt + newTokens > context) {
                throw new IllegalArgumentException("--prompt " + prompt + " + --new-tokens " + newTokens
                        + " exceeds --context " + context);
            }
            if (heads <= 0 || dModel % heads != 0) {
                throw new IllegalArgumentException("--d-model " + dModel + " is not divisible by --heads " + heads);
            }
            if (batch <= 0 || prompt <= 0 || newTokens <= 0 || seconds <= 0) {
                throw new IllegalArgumentException("--batch, --prompt, --new-tokens and --seconds must be > 0");
            }
        }

        /** Writes these settings into {@code node} under the flag names the baseline's JSON uses. */
        public void writeJson(ObjectNode node) {
            node.put("vocab", vocab);
            node.put("d_model", dModel);
            node.put("layers", layers);
            node.put("heads", heads);
            node.put("context", context);
            node.put("batch", batch);
            node.put("prompt", prompt);
            node.put("new_tokens", newTokens);
            node.put("threads", threads);
            node.put("seconds", seconds);
            node.put("seed", seed);
        }

        /**
         * The demo's policy ({@link SftConfig#DEMO_MODEL}: the synthetic world's vocabulary, d 128,
         * 2 layers, 4 heads, context 64) on the baseline's default workload (batch 64, prompt 8,
         * 32 new tokens, all cores, 5 s per figure).
         */
        public static Config defaults() {
            TransformerConfig demo = SftConfig.DEMO_MODEL;
            return new Config(demo.vocabSize(), demo.dModel(), demo.layers(), demo.heads(), demo.contextLength(),
                    64, 8, 32, Runtime.getRuntime().availableProcessors(), 5.0, 0);
        }

        /** The model shape. */
        public TransformerConfig model() {
            return new TransformerConfig(vocab, context, dModel, layers, heads);
        }
    }

    /**
     * Figures of one run.
     *
     * @param sampleTokensPerSecond sampled tokens per second
     * @param trainSequencesPerSecond sequences per second through a PPO update
     * @param maxLogprobDiff sampler vs training-forward log-prob gap
     * @param sampleMsPerBatch milliseconds per sampling call
     * @param trainMsPerStep milliseconds per update
     * @param parameters number of parameters
     * @param device where it ran
     * @param config the settings
     */
    public record Result(double sampleTokensPerSecond, double trainSequencesPerSecond, double maxLogprobDiff,
                         double sampleMsPerBatch, double trainMsPerStep, long parameters, String device,
                         Config config) {

        /** One JSON object: the figures the issue names, the extras, and the config. */
        public String toJson() {
            ObjectMapper json = new ObjectMapper();
            ObjectNode root = json.createObjectNode();
            root.put("sample_tokens_per_s", round(sampleTokensPerSecond, 1));
            root.put("train_seq_per_s", round(trainSequencesPerSecond, 1));
            root.put("max_logprob_diff", maxLogprobDiff);
            root.put("sample_ms_per_batch", round(sampleMsPerBatch, 3));
            root.put("train_ms_per_step", round(trainMsPerStep, 3));
            root.put("n_params", parameters);
            root.put("device", device);
            config.writeJson(root.putObject("config"));
            return root.toString();
        }

        private static double round(double v, int digits) {
            double f = Math.pow(10, digits);
            return Math.round(v * f) / f;
        }
    }

    private ModelBench() {
    }

    /**
     * Runs the benchmark.
     *
     * @param progress receives one human-readable line per phase
     */
    public static Result run(Config cfg, Consumer<String> progress) {
        Engine engine = ModelRuntime.init(cfg.threads());
        try (TransformerPolicy policy = TransformerPolicy.create(cfg.model(), cfg.seed());
             TransformerPolicy reference = policy.referenceCopy()) {
            long params = policy.block().getParameters().stream()
                    .mapToLong(p -> p.getValue().getArray().size()).sum();
            Random random = new Random(cfg.seed());
            int[][] prompts = new int[cfg.batch()][cfg.prompt()];
            for (int[] row : prompts) {
                for (int j = 0; j < row.length; j++) {
                    row[j] = random.nextInt(cfg.vocab());
                }
            }
            Sampler sampler = new Sampler(policy);
            SamplingParams sampling = SamplingParams.of(cfg.newTokens(), -1, 0, cfg.seed());
            progress.accept(String.format("sampling: batch %d, prompt %d, %d new tokens, %d threads, %s ...",
                    cfg.batch(), cfg.prompt(), cfg.newTokens(), cfg.threads(), policy.device()));
            long[] counter = {0};
            double[] sampleTimed = timed(() -> sampler.sample(prompts,
                    sampling.withSeed(cfg.seed() + counter[0]++)), cfg.seconds());
            double samplePerCall = sampleTimed[1] / sampleTimed[0];
            double tokensPerSecond = (double) cfg.batch() * cfg.newTokens() / samplePerCall;
            progress.accept(String.format("  %.0f tokens/s (%.2f ms per batch)", tokensPerSecond,
                    samplePerCall * 1e3));

            SampleResult batch = sampler.sample(prompts, sampling);
            double diff = maxLogprobDiff(policy, batch);
            progress.accept(String.format("  max |sampler - training| log-prob: %.3g", diff));

            progress.accept("PPO update (policy + reference forward, backward, clip, AdamW) ...");
            PpoWorkload ppo = new PpoWorkload(engine, policy, reference, batch, cfg.prompt(), random);
            try {
                double[] trainTimed = timed(ppo::step, cfg.seconds());
                double stepSeconds = trainTimed[1] / trainTimed[0];
                double seqPerSecond = cfg.batch() / stepSeconds;
                progress.accept(String.format("  %.0f sequences/s (%.2f ms per step)", seqPerSecond,
                        stepSeconds * 1e3));
                return new Result(tokensPerSecond, seqPerSecond, diff, samplePerCall * 1e3, stepSeconds * 1e3,
                        params, policy.device().toString(), cfg);
            } finally {
                ppo.close();
            }
        }
    }

    /** Runs {@code fn} 3 times, then until {@code seconds} pass; returns {calls, elapsed seconds}. */
    static double[] timed(Runnable fn, double seconds) {
        for (int i = 0; i < 3; i++) {
            fn.run();
        }
        long start = System.nanoTime();
        long calls = 0;
        double elapsed;
        do {
            fn.run();
            calls++;
            elapsed = (System.nanoTime() - start) / 1e9;
        } while (elapsed < seconds);
        return new double[] {calls, elapsed};
    }

    /** Largest gap between the sampler's log-probs and a training forward's, over all sampled tokens. */
    public static double maxLogprobDiff(TransformerPolicy policy, SampleResult r) {
        int b = r.batchSize();
        int width = 0;
        for (int i = 0; i < b; i++) {
            width = Math.max(width, r.sequence(i).length);
        }
        int[] flat = new int[b * width];
        float[] mask = new float[b * width];
        for (int i = 0; i < b; i++) {
            int[] s = r.sequence(i);
            System.arraycopy(s, 0, flat, i * width, s.length);
            Arrays.fill(mask, i * width, i * width + s.length, 1f);
        }
        try (NDManager m = policy.manager().newSubManager()) {
            NDArray tokens = m.create(flat, new Shape(b, width));  // (B, W)
            NDArray logits = policy.forward(tokens, m.create(mask, new Shape(b, width)), false).logits();  // (B, W, V)
            float[] logp = LogProbs.ofSequence(logits, tokens).toFloatArray();  // (B, W-1)
            double max = 0;
            for (int i = 0; i < b; i++) {
                int p = r.prompts()[i].length;
                for (int t = 0; t < r.length(i); t++) {
                    max = Math.max(max, Math.abs(logp[i * (width - 1) + p - 1 + t] - r.logProbs()[i][t]));
                }
            }
            return max;
        }
    }

    /**
     * One PPO minibatch update, term for term the baseline's {@code ppo_step}. A benchmark workload,
     * not the learner: the learner module owns PPO-max with its settings.
     */
    private static final class PpoWorkload implements AutoCloseable {
        private static final float CLIP = 0.2f;
        private static final float VF_CLIP = 0.2f;
        private static final float VF_COEF = 0.5f;
        private static final float KL_COEF = 0.05f;
        private static final float ENT_COEF = 0.01f;

        private final Engine engine;
        private final TransformerPolicy policy;
        private final TransformerPolicy reference;
        private final Optimizer optimizer;
        private final NDManager data;
        private final NDArray seq;
        private final NDArray actions;
        private final NDArray oldLogp;
        private final NDArray oldValues;
        private final NDArray advantages;
        private final NDArray returns;
        private final int p;
        private final int t;

        PpoWorkload(Engine engine, TransformerPolicy policy, TransformerPolicy reference, SampleResult batch,
                    int prompt, Random random) {
            this.engine = engine;
            this.policy = policy;
            this.reference = reference;
            this.p = prompt;
            this.optimizer = Optimizer.adamW().optLearningRateTracker(Tracker.fixed(1e-4f))
                    .optWeightDecays(0.01f).build();
            this.data = policy.manager().newSubManager();
            int b = batch.batchSize();
            this.t = batch.sequence(0).length;
            int[] flat = new int[b * t];
            for (int i = 0; i < b; i++) {
                System.arraycopy(batch.sequence(i), 0, flat, i * t, t);
            }
            seq = data.create(flat, new Shape(b, t));  // (B, T)
            actions = seq.get(":, {}:", p);  // (B, N)
            PolicyOutput out = policy.forward(seq, null, false);
            oldLogp = LogProbs.gather(out.logits().get(":, {}:-1, :", p - 1), actions);  // (B, N)
            oldValues = out.values().get(":, {}:-1", p - 1);  // (B, N)
            float[] r = new float[b];
            for (int i = 0; i < b; i++) {
                r[i] = (float) random.nextGaussian();
            }
            returns = data.create(r, new Shape(b, 1)).broadcast(oldValues.getShape());  // (B, N)
            NDArray adv = returns.sub(oldValues);  // (B, N)
            NDArray centered = adv.sub(adv.mean());  // (B, N)
            NDArray std = centered.square().sum().div(adv.size() - 1).sqrt();  // unbiased, as torch.std
            advantages = centered.div(std.add(1e-8f));  // (B, N)
        }

        void step() {
            try (NDManager step = policy.manager().newSubManager();
                 GradientCollector gc = engine.newGradientCollector()) {
                PolicyOutput out = policy.forward(seq, null, true);
                NDArray logpAll = out.logits().get(":, {}:-1, :", p - 1).logSoftmax(-1);  // (B, N, V)
                NDArray logp = logpAll.gather(actions.toType(ai.djl.ndarray.types.DataType.INT64, false)
                        .expandDims(-1), -1).squeeze(-1);  // (B, N)
                NDArray values = out.values().get(":, {}:-1", p - 1);  // (B, N)
                NDArray refLogp = LogProbs.gather(reference.forward(seq, null, false).logits()
                        .get(":, {}:-1, :", p - 1), actions).stopGradient();  // (B, N)
                NDArray ratio = logp.sub(oldLogp).exp();  // (B, N)
                NDArray pgLoss1 = advantages.neg().mul(ratio);
                NDArray pgLoss2 = advantages.neg().mul(ratio.clip(1 - CLIP, 1 + CLIP));
                NDArray pgLoss = NDArrays.maximum(pgLoss1, pgLoss2).mean();
                NDArray vClipped = oldValues.add(values.sub(oldValues).clip(-VF_CLIP, VF_CLIP));
                NDArray vfLoss = NDArrays.maximum(values.sub(returns).square(), vClipped.sub(returns).square())
                        .mean().mul(0.5f);
                NDArray logR = refLogp.sub(logp);
                NDArray klRef = logR.exp().sub(logR).sub(1f).mean();  // k3 estimator
                NDArray entropy = logpAll.exp().mul(logpAll).sum(new int[] {-1}).neg().mean();
                NDArray loss = pgLoss.add(vfLoss.mul(VF_COEF)).add(klRef.mul(KL_COEF)).sub(entropy.mul(ENT_COEF));
                gc.backward(loss);
                Gradients.clipGlobalNorm(policy.block(), step, 1.0);
                Gradients.update(policy.block(), optimizer, step);
                // Attach results computed from the model's arrays to this step (see ENVIRONMENT.md).
                loss.attach(step);
            }
        }

        @Override
        public void close() {
            data.close();
        }
    }
}
