package io.streamrlhf.models.sft;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import io.streamrlhf.models.policy.LogProbs;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.world.SftExample;
import io.streamrlhf.models.world.SyntheticWorld;
import java.lang.management.ManagementFactory;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Supervised fine-tuning on the world's corpus: next-token cross-entropy on the response tokens
 * (the prompt is conditioned on, not learned), AdamW with linear warm-up and cosine decay, global
 * gradient-norm clipping at 1, shuffled epochs over a fixed corpus. Works with any
 * {@link PolicyModel} (ours or a TorchScript adapter). Deterministic given the seed up to
 * floating-point reduction order across threads.
 *
 * <p>Uses the JVM's one {@link GradientCollector}: do not run it beside another trainer in the
 * same process.
 */
public final class SftTrainer {

    private static final Logger LOG = LoggerFactory.getLogger(SftTrainer.class);
    private static final float MAX_GRAD_NORM = 1f;
    private static final int EVAL_BATCH = 64;
    private static final int POOL_BATCHES = 8;

    private final SyntheticWorld world;
    private final SftConfig config;
    private final List<SftExample> corpus;
    private final List<SftExample> heldOut;

    /** A trainer; draws the corpus (seed) and the held-out set (seed + 1) now. */
    public SftTrainer(SyntheticWorld world, SftConfig config) {
        this(world, config, world.corpus().generate(config.corpusSize(), config.seed()),
                world.corpus().generate(config.heldOutSize(), config.seed() + 1));
    }

    /**
     * A trainer on given examples in the world's vocabulary (a task's demonstrations rather than the corpus grammar);
     * {@code config}'s corpus and held-out sizes are not used.
     */
    public SftTrainer(SyntheticWorld world, SftConfig config, List<SftExample> corpus, List<SftExample> heldOut) {
        if (config.model().vocabSize() != world.vocabulary().size()) {
            throw new IllegalArgumentException("SftTrainer: model vocabulary " + config.model().vocabSize()
                    + " differs from the world's " + world.vocabulary().size());
        }
        if (corpus.size() < config.batchSize() || heldOut.isEmpty()) {
            throw new IllegalArgumentException("SftTrainer: need at least " + config.batchSize()
                    + " training examples and one held-out example, got " + corpus.size() + " and " + heldOut.size());
        }
        this.world = world;
        this.config = config;
        this.corpus = List.copyOf(corpus);
        this.heldOut = List.copyOf(heldOut);
    }

    /** The held-out examples perplexity is measured on. */
    public List<SftExample> heldOut() {
        return heldOut;
    }

    /** Held-out perplexity of a policy. */
    public double heldOutPerplexity(PolicyModel policy) {
        return SftEvaluation.perplexity(policy, world.vocabulary(), heldOut, EVAL_BATCH);
    }

    /**
     * Trains {@code policy} in place for {@code config.steps()} steps.
     *
     * @param showProgress draw a progress bar on stderr (for people at a terminal)
     */
    public SftResult train(PolicyModel policy, boolean showProgress) {
        if (policy.config().vocabSize() != world.vocabulary().size()) {
            throw new IllegalArgumentException("SftTrainer: policy vocabulary " + policy.config().vocabSize()
                    + " differs from the world's " + world.vocabulary().size());
        }
        double initial = heldOutPerplexity(policy);
        policy.freeze(false);
        Optimizer adamW = Optimizer.adamW()
                .optLearningRateTracker(schedule(config.warmupSteps(), config.steps(), config.learningRate()))
                .optWeightDecays((float) config.weightDecay())
                .build();
        SplittableRandom random = new SplittableRandom(config.seed() ^ 0x5f7L);
        BatchOrder batches = new BatchOrder(random);
        double[] recentLoss = new double[20];
        long start = System.nanoTime();
        long cpuStart = processCpuNanos();
        try (ProgressBar bar = showProgress ? progressBar("SFT", config.steps()) : null) {
            for (int s = 0; s < config.steps(); s++) {
                List<SftExample> examples = batches.next();
                double loss = step(policy, adamW, SftBatch.of(examples, world.vocabulary(), policy.config().contextLength()));
                recentLoss[s % recentLoss.length] = loss;
                if (bar != null) {
                    bar.step();
                    bar.setExtraMessage(String.format(" loss %.3f", loss));
                }
                if (LOG.isDebugEnabled() && s % 50 == 0) {
                    LOG.debug("sft step {} loss {}", s, loss);
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpuSeconds = (processCpuNanos() - cpuStart) / 1e9;
        double meanLoss = 0;
        int window = Math.min(recentLoss.length, config.steps());
        for (int i = 0; i < window; i++) {
            meanLoss += recentLoss[i] / window;
        }
        double finalPerplexity = heldOutPerplexity(policy);
        LOG.info("SFT: {} steps in {} s ({} CPU s), held-out perplexity {} -> {}", config.steps(),
                String.format("%.1f", seconds), String.format("%.1f", cpuSeconds),
                String.format("%.2f", initial), String.format("%.2f", finalPerplexity));
        return new SftResult(config.steps(), initial, finalPerplexity, window == 0 ? Double.NaN : meanLoss, seconds,
                cpuSeconds);
    }

    /**
     * One optimiser step on a batch: masked next-token cross-entropy (the mean over learned tokens), backward, global
     * gradient-norm clipping at 1, the optimiser's update; returns the loss.
     */
    static double step(PolicyModel policy, Optimizer optimizer, SftBatch batch) {
        try (NDManager step = policy.manager().newSubManager()) {
            NDArray tokens = batch.tokens(step);  // (B, T)
            NDArray lossMask = batch.lossMask(step);  // (B, T-1)
            float loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray logits = policy.forward(tokens, batch.attention(step), true).logits();  // (B, T, V)
                NDArray logp = LogProbs.ofSequence(logits, tokens);  // (B, T-1)
                NDArray nll = logp.mul(lossMask).sum().neg().div(lossMask.sum());  // ()
                gc.backward(nll);
                loss = nll.getFloat();
            }
            List<Pair<String, NDArray>> grads = new ArrayList<>();
            NDArray sumSquares = step.zeros(new Shape());
            for (Pair<String, Parameter> p : policy.block().getParameters()) {
                NDArray w = p.getValue().getArray();
                if (!w.hasGradient()) {
                    continue;
                }
                NDArray g = w.getGradient();
                g.attach(step);
                grads.add(new Pair<>(p.getKey(), g));
                sumSquares = sumSquares.add(g.square().sum());
            }
            float norm = (float) Math.sqrt(sumSquares.getFloat());
            // Global-norm clipping: DJL's optimiser clips element-wise only.
            float scale = norm > MAX_GRAD_NORM ? MAX_GRAD_NORM / (norm + 1e-6f) : 1f;
            int i = 0;
            for (Pair<String, Parameter> p : policy.block().getParameters()) {
                NDArray w = p.getValue().getArray();
                if (!w.hasGradient()) {
                    continue;
                }
                NDArray g = grads.get(i++).getValue();
                if (scale < 1f) {
                    g.muli(scale);
                }
                optimizer.update(p.getKey(), w, g);
                // PyTorch accumulates into .grad; clear it in place for the next step.
                g.subi(g);
            }
            return loss;
        }
    }

    /**
     * Shuffled epochs over the corpus, cut into batches of similar length: a pool of
     * {@value #POOL_BATCHES} batches is sorted by sequence length, cut, and the batches are shuffled,
     * so padding (wasted compute) stays small while every example is still seen once per epoch.
     */
    private final class BatchOrder {
        private final SplittableRandom random;
        private final ArrayDeque<List<SftExample>> ready = new ArrayDeque<>();
        private int[] order;
        private int cursor;

        BatchOrder(SplittableRandom random) {
            this.random = random;
            this.order = shuffled(corpus.size(), random);
        }

        List<SftExample> next() {
            if (ready.isEmpty()) {
                List<SftExample> pool = new ArrayList<>(POOL_BATCHES * config.batchSize());
                for (int i = 0; i < POOL_BATCHES * config.batchSize(); i++) {
                    if (cursor == order.length) {
                        order = shuffled(corpus.size(), random);
                        cursor = 0;
                    }
                    pool.add(corpus.get(order[cursor++]));
                }
                pool.sort(Comparator.comparingInt(e -> e.prompt().words().size() + e.response().size()));
                List<List<SftExample>> cut = new ArrayList<>();
                for (int i = 0; i < pool.size(); i += config.batchSize()) {
                    cut.add(pool.subList(i, i + config.batchSize()));
                }
                for (int i : shuffled(cut.size(), random)) {
                    ready.add(cut.get(i));
                }
            }
            return ready.poll();
        }
    }

    /** Linear warm-up to {@code learningRate} over {@code warmupSteps}, then cosine decay to 10 % at {@code steps}. */
    static Tracker schedule(int warmupSteps, int steps, double learningRate) {
        int warmup = Math.max(1, warmupSteps);
        int total = Math.max(warmup + 1, steps);
        float peak = (float) learningRate;
        // numUpdate counts this parameter's updates from 1
        return numUpdate -> {
            if (numUpdate <= warmup) {
                return peak * numUpdate / warmup;
            }
            double progress = Math.min(1.0, (double) (numUpdate - warmup) / (total - warmup));
            return (float) (peak * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress))));
        };
    }

    /** A progress bar on stderr over {@code steps} steps. */
    static ProgressBar progressBar(String task, int steps) {
        return new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(steps)
                .setStyle(ProgressBarStyle.ASCII)
                .setConsumer(new ConsoleProgressBarConsumer(System.err))
                // Redrawn in place on a terminal; into a log or a pipe each redraw is kept, so fewer of them.
                .setUpdateIntervalMillis(System.console() != null ? 500 : 10_000)
                .showSpeed()
                .build();
    }

    /** CPU time of the whole process (every thread, native ones included), or 0 where unavailable. */
    static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return Math.max(0, os.getProcessCpuTime());
        }
        return 0;
    }

    static int[] shuffled(int n, SplittableRandom random) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = a[i];
            a[i] = a[j];
            a[j] = tmp;
        }
        return a;
    }
}
