package io.streamrlhf.learner.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.learner.ppo.PpoConfig;
import io.streamrlhf.learner.ppo.PpoUpdate;
import io.streamrlhf.learner.ppo.RolloutSample;
import io.streamrlhf.models.bench.ModelBench;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfModelConfig;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.load.PolicyLoader;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.SamplingParams;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * The learner benchmark. One timed step is one {@link PpoUpdate#update} with one epoch and one
 * minibatch over a batch of B sampled sequences: the policy forward with gradients (whose detached
 * outputs are the proximal log-probs and old values), the frozen reference forward, KL-shaped
 * rewards, GAE and whitening on the host, clipped policy and value losses, entropy bonus, backward,
 * global grad-norm clip and AdamW. That is the work of {@code ppo_sequences_per_s} of
 * {@code shared/tools/torch-baseline} plus the host-side rollout statistics.
 *
 * <p>FLOPs are counted as the baseline counts them:
 * policy {@code 6·N·B·T + 3·(4·L·T²·d)·B}, reference {@code 2·N·B·T + 4·L·T²·d·B}. {@code ratio}
 * is achieved FLOP/s over the FLOP/s of a 2048² DJL matrix multiply on the same threads.
 * {@code rss_growth} is the relative growth of the process's resident set over {@code rssUpdates}
 * further updates, counted from the next garbage collection after the timed phase (until a
 * collection has cycled the young generation, RSS rises by the Java heap's first fill, once).
 *
 * <p>{@link #run(Path, ModelBench.Config, int, double, Consumer)} runs the same update on a Hugging Face causal-LM
 * folder: an {@link HfPolicy} with its frozen {@link HfPolicy#referenceCopy()}, on rollouts its
 * {@link io.streamrlhf.models.hf.HfSampler} drew; N then leaves out the embedding lookups and counts a tied output
 * matrix once, as {@code shared/tools/torch-baseline/run --hf} counts it.
 */
public final class LearnerBench {

    /**
     * Figures of one run.
     *
     * @param updateSeqPerSecond sequences per second through an update
     * @param achievedGflops     counted GFLOP per second of the update
     * @param peakGflops         GFLOP/s of a large DJL matrix multiply
     * @param rssGrowth          relative RSS growth over {@code rssUpdates} updates
     * @param msPerUpdate        milliseconds per update
     * @param parameters         the policy's parameters, value head included (N of the FLOP count, except for a
     *                           Hugging Face folder: see {@code n_params_flops})
     * @param rssUpdates         updates the RSS was watched over
     * @param settleUpdates      updates run before the RSS window, until the next garbage collection
     * @param warmupSeconds      untimed updates before the timed ones
     * @param rssStartMib        resident set when the RSS window opened, MiB
     * @param rssEndMib          resident set when it closed, MiB
     * @param heapPretouched     whether the JVM touched its whole Java heap at start ({@code -XX:+AlwaysPreTouch}, as
     *                           {@code rlhf bench learner} runs it), so that RSS growth is native memory only
     * @param device             where it ran
     * @param config             the workload
     * @param model              the Hugging Face folder measured, or null for the project's own transformer
     */
    public record Result(double updateSeqPerSecond, double achievedGflops, double peakGflops, double rssGrowth,
                         double msPerUpdate, long parameters, int rssUpdates, int settleUpdates, double warmupSeconds,
                         long rssStartMib, long rssEndMib, boolean heapPretouched, String device,
                         ModelBench.Config config, ModelBench.ModelInfo model) {

        /** achieved / peak. */
        public double ratio() {
            return achievedGflops / peakGflops;
        }

        /** The JSON line: the five figures first, then extras and the config. */
        public String toJson() {
            ObjectNode root = new ObjectMapper().createObjectNode();
            root.put("update_seq_per_s", round(updateSeqPerSecond, 1));
            root.put("achieved_gflops", round(achievedGflops, 2));
            root.put("peak_gflops", round(peakGflops, 2));
            root.put("ratio", round(ratio(), 3));
            root.put("rss_growth", round(rssGrowth, 4));
            root.put("ms_per_update", round(msPerUpdate, 3));
            root.put("n_params", parameters);
            root.put("rss_updates", rssUpdates);
            root.put("rss_settle_updates", settleUpdates);
            root.put("warmup_s", warmupSeconds);
            root.put("rss_start_mib", rssStartMib);
            root.put("rss_end_mib", rssEndMib);
            root.put("heap_pretouched", heapPretouched);
            root.put("device", device);
            if (model != null) {
                root.put("n_params_flops", model.flopParameters());
            }
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

    /** Bound on the updates run waiting for the next collection (a huge heap might not collect for long). */
    static final int MAX_SETTLE_UPDATES = 3_000;

    private LearnerBench() {
    }

    /** Whether this JVM was started with {@code -XX:+AlwaysPreTouch} (the last such flag wins). */
    static boolean heapPretouched() {
        boolean on = false;
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.equals("-XX:+AlwaysPreTouch")) {
                on = true;
            } else if (arg.equals("-XX:-AlwaysPreTouch")) {
                on = false;
            }
        }
        return on;
    }

    /** Collections so far, all of the JVM's collectors together. */
    static long collections() {
        long n = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, gc.getCollectionCount());
        }
        return n;
    }

    /**
     * Runs the benchmark.
     *
     * @param rssUpdates    updates over which RSS growth is measured (the issue asks for 1,000)
     * @param warmupSeconds untimed updates first, at least 3: the JVM's compiler is still compiling the update's Java
     *                      side for several seconds, on the same two cores (PyTorch eager has no such phase)
     * @param progress      receives one line per phase, for people
     */
    public static Result run(ModelBench.Config cfg, int rssUpdates, double warmupSeconds, Consumer<String> progress) {
        ModelRuntime.init(cfg.threads());
        try (TransformerPolicy policy = TransformerPolicy.create(cfg.model(), cfg.seed());
             TransformerPolicy reference = policy.referenceCopy()) {
            long n = policy.block().getParameters().stream().mapToLong(p -> p.getValue().getArray().size()).sum();
            return measure(policy, reference, cfg, n, null, rssUpdates, warmupSeconds, progress);
        }
    }

    /**
     * Runs the benchmark on a Hugging Face causal-LM folder: {@code workload}'s batch, prompt, new tokens, threads,
     * seconds and seed on the folder's model ({@link ModelBench.Config#forFolder}), loaded as an {@link HfPolicy}
     * for prompt + new tokens positions, its reference a frozen copy of the starting weights.
     *
     * @throws io.streamrlhf.models.hf.HfFormatException naming the file and setting or tensor the folder is refused
     *                                                   for
     */
    public static Result run(Path model, ModelBench.Config workload, int rssUpdates, double warmupSeconds,
                             Consumer<String> progress) {
        ModelRuntime.init(workload.threads());
        int context = workload.prompt() + workload.newTokens();
        ModelBench.Config cfg = workload.forFolder(HfModelConfig.read(model, context));
        try (HfPolicy policy = HfPolicy.load(model, context);
             HfPolicy reference = policy.referenceCopy()) {
            ModelBench.ModelInfo info = ModelBench.ModelInfo.of(model, policy);
            return measure(policy, reference, cfg, info.flopParameters(), info, rssUpdates, warmupSeconds, progress);
        }
    }

    private static Result measure(PolicyModel policy, PolicyModel reference, ModelBench.Config cfg, long n,
                                  ModelBench.ModelInfo model, int rssUpdates, double warmupSeconds,
                                  Consumer<String> progress) {
        List<RolloutSample> batch = batch(policy, cfg);
        // The baseline's ppo_step: clip 0.2, value clip 0.2, vf 0.5, KL 0.05, entropy 0.01, AdamW lr 1e-4 wd 0.01.
        PpoConfig ppoConfig = PpoConfig.defaults().with(Map.of(
                PpoConfig.EPOCHS, 1, PpoConfig.MINIBATCH_SIZE, cfg.batch(), PpoConfig.TARGET_KL, 0.0,
                PpoConfig.ENTROPY_COEF, 0.01, PpoConfig.KL_COEF, 0.05, PpoConfig.LEARNING_RATE, 1e-4,
                PpoConfig.WEIGHT_DECAY, 0.01, PpoConfig.WARMUP_STEPS, 0, PpoConfig.MAX_STALENESS, Integer.MAX_VALUE));
        PpoUpdate ppo = new PpoUpdate(ppoConfig, policy, reference, null);
        progress.accept(String.format("PPO-max update: batch %d x %d tokens, d %d, %d layers, %d threads, %s%s ...",
                cfg.batch(), cfg.prompt() + cfg.newTokens(), cfg.dModel(), cfg.layers(), cfg.threads(),
                policy.device(), model == null ? "" : ", " + model.architecture() + " from " + model.dir()));
        Runnable update = () -> ppo.update(batch, 0);
        long warmupStart = System.nanoTime();
        for (int i = 0; i < 3 || (System.nanoTime() - warmupStart) / 1e9 < warmupSeconds; i++) {
            update.run();
        }
        long start = System.nanoTime();
        long calls = 0;
        double elapsed;
        do {
            update.run();
            calls++;
            elapsed = (System.nanoTime() - start) / 1e9;
        } while (elapsed < cfg.seconds());
        double stepSeconds = elapsed / calls;
        long t = cfg.prompt() + cfg.newTokens();
        double attention = 4.0 * cfg.layers() * t * t * ModelBench.attentionWidth(policy) * cfg.batch();
        double flops = 6.0 * n * cfg.batch() * t + 3 * attention + 2.0 * n * cfg.batch() * t + attention;
        double achieved = flops / stepSeconds / 1e9;
        progress.accept(String.format("  %.0f sequences/s (%.2f ms per update), %.1f GFLOP/s counted",
                cfg.batch() / stepSeconds, stepSeconds * 1e3, achieved));

        double peak = matmulGflops(policy.manager(), 2048, Math.min(cfg.seconds(), 3.0));
        progress.accept(String.format("  DJL 2048x2048 matmul peak: %.1f GFLOP/s (ratio %.2f)", peak,
                achieved / peak));

        // The Java heap's first fill is not growth: until a collection each update's garbage (DJL's
        // array handles, host copies; about 0.7 MiB an update here) lands on eden pages never touched before,
        // and RSS climbs by up to the eden's size, then stays flat. The window starts after that. (The young
        // collections after it still move objects to regions never touched before, for a few hundred updates
        // more: rlhf bench learner runs with -XX:+AlwaysPreTouch, so that the whole heap is resident from the
        // start and what grows is native memory.)
        long collections = collections();
        int settle = 0;
        while (rssUpdates > 0 && collections() == collections && settle < MAX_SETTLE_UPDATES) {
            update.run();
            settle++;
        }
        progress.accept(String.format("RSS over %d updates (after %d until the next collection) ...", rssUpdates,
                settle));
        long rssBefore = rssBytes();
        for (int i = 0; i < rssUpdates; i++) {
            update.run();
        }
        long rssAfter = rssBytes();
        double growth = rssBefore > 0 ? (double) (rssAfter - rssBefore) / rssBefore : Double.NaN;
        progress.accept(String.format("  RSS %d MiB -> %d MiB (%+.2f %%)", rssBefore >> 20, rssAfter >> 20,
                growth * 100));
        long parameters = policy.block().getParameters().stream().mapToLong(p -> p.getValue().getArray().size()).sum();
        return new Result(cfg.batch() / stepSeconds, achieved, peak, growth, stepSeconds * 1e3, parameters, rssUpdates,
                settle, warmupSeconds, rssBefore >> 20, rssAfter >> 20, heapPretouched(),
                policy.device().toString(), cfg, model);
    }

    private static List<RolloutSample> batch(PolicyModel policy, ModelBench.Config cfg) {
        Random random = new Random(cfg.seed());
        int[][] prompts = ModelBench.randomPrompts(cfg, random);
        SampleResult r = PolicyLoader.sampler(policy).sample(prompts,
                SamplingParams.of(cfg.newTokens(), -1, 0, cfg.seed()), new int[0]);
        List<RolloutSample> out = new ArrayList<>();
        for (int i = 0; i < r.batchSize(); i++) {
            out.add(new RolloutSample("bench-" + i, "bench-p" + i, 1, 0, prompts[i], r.tokens()[i], r.logProbs()[i], 0,
                    random.nextGaussian(), 0.0));
        }
        return out;
    }

    /** FLOP/s of repeated n x n float32 matrix products on the current threads. */
    static double matmulGflops(NDManager parent, int n, double seconds) {
        try (NDManager m = parent.newSubManager()) {
            NDArray a = m.randomNormal(new Shape(n, n));
            NDArray b = m.randomNormal(new Shape(n, n));
            a.matMul(b).close();
            long start = System.nanoTime();
            long calls = 0;
            double elapsed;
            do {
                a.matMul(b).close();  // PyTorch on the CPU returns when the product is done
                calls++;
                elapsed = (System.nanoTime() - start) / 1e9;
            } while (elapsed < seconds);
            return 2.0 * n * n * n * calls / elapsed / 1e9;
        }
    }

    /**
     * VmRSS of this process in bytes, from /proc (0 where there is none), after a full GC: garbage
     * Java arrays and the direct buffers DJL copies host data through are freed first, so what is
     * left to grow is native memory that something still holds.
     */
    static long rssBytes() {
        System.gc();
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }
}
