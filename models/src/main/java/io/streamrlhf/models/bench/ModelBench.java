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
import io.streamrlhf.models.engine.NoGrad;
import io.streamrlhf.models.hf.HfModelConfig;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.hf.llama.LlamaConfig;
import io.streamrlhf.models.load.PolicyLoader;
import io.streamrlhf.models.policy.LogProbs;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.policy.PolicyOutput;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.SamplingParams;
import io.streamrlhf.models.sampling.TokenSampler;
import io.streamrlhf.models.sft.SftConfig;
import io.streamrlhf.models.training.Gradients;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.nio.file.Path;
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
 *   <li>{@code forward_tokens_per_s}: B x T / time of one no-gradient policy forward (logits and values) over
 *       the sampled batch, the work of a reference or scoring forward.</li>
 * </ul>
 * Each figure runs three warm-up calls, then repeats for at least {@code seconds}.
 *
 * <p>{@link #run(Path, Config, Consumer)} measures a Hugging Face causal-LM folder instead of the project's own
 * transformer: an {@link HfPolicy} (the folder's model plus a zero value head), sampled by
 * {@link io.streamrlhf.models.hf.HfSampler} (KV cache, the draw on the device), which is what
 * {@code shared/tools/torch-baseline/run --hf DIR} measures.
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

        /**
         * This workload (batch, prompt, new tokens, threads, seconds, seed) on the shape of a Hugging Face folder's
         * config: vocabulary, width, layers, heads and position limit are the folder's, as the baseline's
         * {@code --hf} takes them.
         *
         * @throws IllegalArgumentException if prompt and new tokens do not fit the folder's positions
         */
        public Config forFolder(HfModelConfig folder) {
            return new Config(folder.vocabSize(), folder.hiddenSize(), folder.numLayers(), folder.numHeads(),
                    folder.contextLength(), batch, prompt, newTokens, threads, seconds, seed);
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
     * @param forwardTokensPerSecond tokens per second through a no-gradient forward of the batch
     * @param parameters number of parameters
     * @param device where it ran
     * @param config the settings
     * @param model the Hugging Face folder measured, or null for the project's own transformer
     */
    public record Result(double sampleTokensPerSecond, double trainSequencesPerSecond, double maxLogprobDiff,
                         double sampleMsPerBatch, double trainMsPerStep, double forwardTokensPerSecond,
                         long parameters, String device, Config config, ModelInfo model) {

        /** One JSON object: the figures the issue names, the extras, and the config. */
        public String toJson() {
            ObjectMapper json = new ObjectMapper();
            ObjectNode root = json.createObjectNode();
            root.put("sample_tokens_per_s", round(sampleTokensPerSecond, 1));
            root.put("train_seq_per_s", round(trainSequencesPerSecond, 1));
            root.put("max_logprob_diff", maxLogprobDiff);
            root.put("sample_ms_per_batch", round(sampleMsPerBatch, 3));
            root.put("train_ms_per_step", round(trainMsPerStep, 3));
            root.put("forward_tokens_per_s", round(forwardTokensPerSecond, 1));
            root.put("n_params", parameters);
            root.put("device", device);
            ObjectNode cfg = root.putObject("config");
            config.writeJson(cfg);
            if (model != null) {
                model.writeJson(cfg);
            }
            return root.toString();
        }

        private static double round(double v, int digits) {
            double f = Math.pow(10, digits);
            return Math.round(v * f) / f;
        }
    }

    /**
     * The Hugging Face folder a run measured.
     *
     * @param dir          the folder
     * @param architecture its architecture class ({@code GPT2LMHeadModel}, {@code Qwen2ForCausalLM}, ...)
     * @param kvHeads      key/value heads (the heads, without grouped-query attention)
     * @param flopParameters N of the FLOP formula, counted as the baseline counts it for {@code --hf}
     */
    public record ModelInfo(String dir, String architecture, int kvHeads, long flopParameters) {

        /** Writes {@code model}, {@code architecture} and {@code kv_heads} into a run's config object. */
        public void writeJson(ObjectNode config) {
            config.put("model", dir);
            config.put("architecture", architecture);
            config.put("kv_heads", kvHeads);
        }

        /** The folder behind {@code policy}. */
        public static ModelInfo of(Path dir, HfPolicy policy) {
            HfModelConfig c = policy.modelConfig();
            int kvHeads = c instanceof LlamaConfig llama ? llama.num_key_value_heads() : c.numHeads();
            return new ModelInfo(dir.toString(), c.architecture(), kvHeads, ModelBench.flopParameters(policy));
        }
    }

    private ModelBench() {
    }

    /**
     * N of the baseline's FLOP formula for a Hugging Face policy: every parameter that takes part in a matrix
     * product, so all but the input embedding tables ({@code wte}, {@code wpe}, {@code embed_tokens} are
     * lookups), plus the output matrix once when it is tied to the embedding.
     */
    public static long flopParameters(HfPolicy policy) {
        long n = 0;
        for (var e : policy.namedArrays(true).entrySet()) {
            String name = e.getKey();
            boolean lookup = name.endsWith("wte.weight") || name.endsWith("wpe.weight")
                    || name.endsWith("embed_tokens.weight");
            n += lookup ? 0 : e.getValue().size();
        }
        HfModelConfig c = policy.modelConfig();
        return n + (c.tiedEmbeddings() ? (long) c.vocabSize() * c.hiddenSize() : 0);
    }

    /**
     * The width of the attention products in the FLOP formula: heads x head width (d for the project's transformer
     * and GPT-2; a Llama-family config may set {@code head_dim} apart from d / heads).
     */
    public static int attentionWidth(PolicyModel policy) {
        if (policy instanceof HfPolicy hf && hf.modelConfig() instanceof LlamaConfig llama) {
            return llama.num_attention_heads() * llama.head_dim();
        }
        return policy.config().dModel();
    }

    /**
     * Runs the benchmark on the project's own transformer of {@code cfg}'s shape, randomly initialised.
     *
     * @param progress receives one human-readable line per phase
     */
    public static Result run(Config cfg, Consumer<String> progress) {
        ModelRuntime.init(cfg.threads());
        try (TransformerPolicy policy = TransformerPolicy.create(cfg.model(), cfg.seed());
             TransformerPolicy reference = policy.referenceCopy()) {
            return measure(policy, reference, cfg, null, progress);
        }
    }

    /**
     * Runs the benchmark on a Hugging Face causal-LM folder: {@code workload}'s batch, prompt, new tokens, threads,
     * seconds and seed on the folder's model ({@link Config#forFolder}), loaded as an {@link HfPolicy} for
     * prompt + new tokens positions, its reference a frozen copy.
     *
     * @param progress receives one human-readable line per phase
     * @throws io.streamrlhf.models.hf.HfFormatException naming the file and setting or tensor the folder is refused
     *                                                   for
     */
    public static Result run(Path model, Config workload, Consumer<String> progress) {
        ModelRuntime.init(workload.threads());
        int context = workload.prompt() + workload.newTokens();
        Config cfg = workload.forFolder(HfModelConfig.read(model, context));
        try (HfPolicy policy = HfPolicy.load(model, context);
             HfPolicy reference = policy.referenceCopy()) {
            return measure(policy, reference, cfg, ModelInfo.of(model, policy), progress);
        }
    }

    private static Result measure(PolicyModel policy, PolicyModel reference, Config cfg, ModelInfo model,
                                  Consumer<String> progress) {
        Engine engine = policy.manager().getEngine();
        long params = policy.block().getParameters().stream()
                .mapToLong(p -> p.getValue().getArray().size()).sum();
        Random random = new Random(cfg.seed());
        int[][] prompts = randomPrompts(cfg, random);
        TokenSampler sampler = PolicyLoader.sampler(policy);
        SamplingParams sampling = SamplingParams.of(cfg.newTokens(), -1, 0, cfg.seed());
        progress.accept(String.format("sampling: batch %d, prompt %d, %d new tokens, %d threads, %s%s ...",
                cfg.batch(), cfg.prompt(), cfg.newTokens(), cfg.threads(), policy.device(),
                model == null ? "" : ", " + model.architecture() + " from " + model.dir()));
        long[] counter = {0};
        int[] noStop = new int[0];
        double[] sampleTimed = timed(() -> sampler.sample(prompts,
                sampling.withSeed(cfg.seed() + counter[0]++), noStop), cfg.seconds());
        double samplePerCall = sampleTimed[1] / sampleTimed[0];
        double tokensPerSecond = (double) cfg.batch() * cfg.newTokens() / samplePerCall;
        progress.accept(String.format("  %.0f tokens/s (%.2f ms per batch)", tokensPerSecond,
                samplePerCall * 1e3));

        SampleResult batch = sampler.sample(prompts, sampling, noStop);
        double diff = maxLogprobDiff(policy, batch);
        progress.accept(String.format("  max |sampler - training| log-prob: %.3g", diff));

        progress.accept("forward (no gradients, logits and values) ...");
        double forwardPerCall;
        try (NDManager data = policy.manager().newSubManager()) {
            NDArray seq = sequences(data, batch);  // (B, T)
            double[] forwardTimed = timed(() -> forward(policy, seq), cfg.seconds());
            forwardPerCall = forwardTimed[1] / forwardTimed[0];
        }
        double forwardTokens = (double) cfg.batch() * (cfg.prompt() + cfg.newTokens()) / forwardPerCall;
        progress.accept(String.format("  %.0f tokens/s (%.2f ms per forward)", forwardTokens, forwardPerCall * 1e3));

        progress.accept("PPO update (policy + reference forward, backward, clip, AdamW) ...");
        try (PpoWorkload ppo = new PpoWorkload(engine, policy, reference, batch, cfg.prompt(), random)) {
            double[] trainTimed = timed(ppo::step, cfg.seconds());
            double stepSeconds = trainTimed[1] / trainTimed[0];
            double seqPerSecond = cfg.batch() / stepSeconds;
            progress.accept(String.format("  %.0f sequences/s (%.2f ms per step)", seqPerSecond,
                    stepSeconds * 1e3));
            return new Result(tokensPerSecond, seqPerSecond, diff, samplePerCall * 1e3, stepSeconds * 1e3,
                    forwardTokens, params, policy.device().toString(), cfg, model);
        }
    }

    /**
     * One no-gradient forward of {@code seq (B, T)}, logits and values, everything it makes freed before it returns:
     * an operation's result belongs to its receiver's manager, so the batch is lent to the call's manager while it
     * runs (in the batch's own every activation would stay until the batch is closed).
     */
    static void forward(PolicyModel policy, NDArray seq) {
        try (NoGrad ignored = NoGrad.enter(); NDManager call = policy.manager().newSubManager()) {
            call.tempAttachAll(seq);
            policy.forward(seq, null, false);
        }
    }

    /** B prompts of P ids drawn uniformly from the vocabulary. */
    public static int[][] randomPrompts(Config cfg, Random random) {
        int[][] prompts = new int[cfg.batch()][cfg.prompt()];
        for (int[] row : prompts) {
            for (int j = 0; j < row.length; j++) {
                row[j] = random.nextInt(cfg.vocab());
            }
        }
        return prompts;
    }

    /** The sampled batch as one (B, T) array: prompt and continuation, every row the same length (no EOS). */
    private static NDArray sequences(NDManager m, SampleResult batch) {
        int b = batch.batchSize();
        int t = batch.sequence(0).length;
        int[] flat = new int[b * t];
        for (int i = 0; i < b; i++) {
            System.arraycopy(batch.sequence(i), 0, flat, i * t, t);
        }
        return m.create(flat, new Shape(b, t));  // (B, T)
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
    public static double maxLogprobDiff(PolicyModel policy, SampleResult r) {
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
        try (NoGrad ignored = NoGrad.enter(); NDManager m = policy.manager().newSubManager()) {
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
     * One PPO minibatch update, term for term the baseline's {@code ppo_step}, except that the policy's and the
     * reference's output projections run over the response positions only ({@link PolicyModel#forwardFrame}),
     * where the baseline projects every position and slices. A benchmark workload, not the learner: the learner
     * module owns PPO-max with its settings.
     */
    static final class PpoWorkload implements AutoCloseable {
        private static final float CLIP = 0.2f;
        private static final float VF_CLIP = 0.2f;
        private static final float VF_COEF = 0.5f;
        private static final float KL_COEF = 0.05f;
        private static final float ENT_COEF = 0.01f;

        private final Engine engine;
        private final PolicyModel policy;
        private final PolicyModel reference;
        private final Optimizer optimizer;
        private final NDManager data;
        private final NDArray seq;
        private final NDArray actions;
        private final NDArray oldLogp;
        private final NDArray oldValues;
        private final NDArray advantages;
        private final NDArray returns;
        private final int p;

        PpoWorkload(Engine engine, PolicyModel policy, PolicyModel reference, SampleResult batch,
                    int prompt, Random random) {
            this.engine = engine;
            this.policy = policy;
            this.reference = reference;
            this.p = prompt;
            this.optimizer = Optimizer.adamW().optLearningRateTracker(Tracker.fixed(1e-4f))
                    .optWeightDecays(0.01f).build();
            this.data = policy.manager().newSubManager();
            int b = batch.batchSize();
            seq = sequences(data, batch);  // (B, T)
            actions = seq.get(":, {}:", p);  // (B, N)
            try (NoGrad ignored = NoGrad.enter()) {
                PolicyOutput out = policy.forwardFrame(seq, null, false, p - 1);
                oldLogp = LogProbs.gather(out.logits(), actions);  // (B, N)
                oldValues = responseFrame(out.values());  // (B, N)
            }
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

        /** The batch's sequences (B, T), prompt and response. */
        NDArray batch() {
            return seq;
        }

        /** Positions P - 1 to T - 2 (those that score the response tokens) of {@code x (B, T, ...)}. */
        private NDArray responseFrame(NDArray x) {
            return PolicyModel.frame(x, p - 1);  // (B, N, ...)
        }

        void step() {
            try (NDManager step = policy.manager().newSubManager();
                 GradientCollector gc = engine.newGradientCollector()) {
                // The batch lent to the step (see forward): every result of the step is then the step's, freed when
                // it closes, not piled up in the batch's manager step after step.
                step.tempAttachAll(seq, actions, oldLogp, oldValues, advantages, returns);
                PolicyOutput out = policy.forwardFrame(seq, null, true, p - 1);
                NDArray logpAll = out.logits().logSoftmax(-1);  // (B, N, V)
                NDArray logp = logpAll.gather(actions.toType(ai.djl.ndarray.types.DataType.INT64, false)
                        .expandDims(-1), -1).squeeze(-1);  // (B, N)
                NDArray values = responseFrame(out.values());  // (B, N)
                NDArray refLogp = LogProbs.gather(reference.forwardFrame(seq, null, false, p - 1).logits(),
                        actions).stopGradient();  // (B, N)
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
            }
        }

        @Override
        public void close() {
            data.close();
        }
    }
}
