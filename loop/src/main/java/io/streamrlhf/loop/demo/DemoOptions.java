package io.streamrlhf.loop.demo;

import io.streamrlhf.learner.ppo.PpoConfig;
import io.streamrlhf.learner.rm.RmMethod;
import io.streamrlhf.models.sft.SftConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.kafka.common.config.ConfigException;

/**
 * Everything one demo run is configured by. {@link #defaults()} are the values {@code rlhf demo} uses; they were tuned
 * on two CPU cores (see {@code docs/demo.md} for what was measured with them).
 *
 * @param loopBudget       how long the streaming loop runs after the starting models are ready
 * @param seed             seeds the SFT policy, the preference set, the reward models, the prompts and the samplers
 * @param reportDir        where the HTML report and charts go; null writes none
 * @param beta             KL penalty coefficient β of the PPO learner (0 allowed: no penalty)
 * @param lockstep         generation waits for each policy update (the synchronous loop) instead of streaming
 * @param cacheDir         where the SFT policy and the initial reward models are cached between runs
 * @param sftSteps         SFT optimiser steps on first run
 * @param preferencePairs  pairs of the offline preference set the initial reward models train on
 * @param rmEnsemble       reward models in the ensemble
 * @param rmEpochs         epochs of the initial reward-model training
 * @param evalPrompts      held-out prompts of the gold evaluation (SFT, best-of-8, final)
 * @param groupSize        samples per prompt (the PPO group, and what the raters compare)
 * @param batchSequences   sequences per PPO update (prompts per batch × group size)
 * @param backlogBatches   streaming: batches of prompts allowed in flight ahead of the learner (bounds staleness)
 * @param raterRate        simulated rater labels per second
 * @param rmTrainEvery     new preference pairs per online reward-model round
 * @param threads          PyTorch intra-op threads per process (1 is fastest on a shared 2-core machine)
 * @param maxNewTokens     response budget of the workers and the evaluation
 * @param learningRate     PPO learning rate
 * @param stopAtGold       stop the loop as soon as the rolling gold reward reaches this (null: run the budget out)
 * @param showProgress     draw the live progress line
 * @param aggregation      how the reward stream combines the ensemble ({@code mean}, {@code mean_minus_k_std}, ...)
 * @param estimator        the learner's advantage estimator: {@code gae} (critic), {@code grpo} or {@code rloo} (group)
 * @param rmMethod         how the initial reward models are trained
 * @param ppoOverrides     PPO-max settings given with {@code --ppo}
 * @param onlineRmMethod   how the online reward-model trainer learns from live preferences
 * @param referenceInLearner the learner runs the frozen reference in every update, instead of the reward stream
 *                         computing its log-probs beside the reward models
 * @param stageNice        streaming: nice value of the sampler's and the reward scorer's threads (0: as the JVM's
 *                         others); the learner's thread keeps 0, and so does every thread in lockstep
 */
public record DemoOptions(Duration loopBudget, long seed, Path reportDir, double beta, boolean lockstep, Path cacheDir,
                          int sftSteps, int preferencePairs, int rmEnsemble, int rmEpochs, int evalPrompts,
                          int groupSize, int batchSequences, int backlogBatches, double raterRate, int rmTrainEvery,
                          int threads, int maxNewTokens, double learningRate, Double stopAtGold,
                          boolean showProgress, String aggregation, String estimator, String rmMethod,
                          Map<String, String> ppoOverrides, String onlineRmMethod, boolean referenceInLearner,
                          int stageNice) {

    /** The default loop budget of {@code rlhf demo}. */
    public static final Duration DEFAULT_LOOP = Duration.ofSeconds(180);
    /** The default KL coefficient β. */
    public static final double DEFAULT_BETA = 0.05;
    /** The initial reward models' training method (Secrets of RLHF II; see {@code rlhf train-rm --compare}). */
    public static final String DEFAULT_RM_METHOD = "flip+margin";
    /** The online reward-model trainer's method on live preferences. */
    public static final String DEFAULT_ONLINE_RM_METHOD = "bt";
    /**
     * The default nice value of the sampler's and the reward scorer's threads. They work up to {@code --backlog}
     * batches ahead of the learner, whose update is the loop's critical path: at 15 (kernel weight 36 against the
     * learner's 1024) they take little of a CPU they share with it, and the other CPU does their work (docs/demo.md,
     * the settings table).
     */
    public static final int DEFAULT_STAGE_NICE = 15;
    /**
     * The default batches in flight ahead of the learner in streaming. At 2 the learner waits for data about 30 ms of
     * each 0.45 s cycle on two cores; at 3 about 1 ms (docs/demo.md, the settings table).
     */
    public static final int DEFAULT_BACKLOG = 3;

    /** Checks every field and names the one that is wrong. */
    public DemoOptions {
        Objects.requireNonNull(loopBudget, "loopBudget");
        Objects.requireNonNull(cacheDir, "cacheDir");
        require(!loopBudget.isNegative() && !loopBudget.isZero(), "--minutes must be > 0, got " + loopBudget);
        require(beta >= 0 && Double.isFinite(beta), "--beta must be >= 0, got " + beta);
        require(sftSteps >= 1, "--sft-steps must be >= 1, got " + sftSteps);
        require(preferencePairs >= 16, "--preference-pairs must be >= 16, got " + preferencePairs);
        require(rmEnsemble >= 1 && rmEnsemble <= 16, "--rm-ensemble must be in [1, 16], got " + rmEnsemble);
        require(rmEpochs >= 1, "--rm-epochs must be >= 1, got " + rmEpochs);
        require(evalPrompts >= 8, "--eval-prompts must be >= 8, got " + evalPrompts);
        require(groupSize >= 2, "--group-size must be >= 2 (raters compare two samples of a prompt), got " + groupSize);
        require(batchSequences >= groupSize && batchSequences % groupSize == 0,
                "--batch must be a multiple of --group-size (" + groupSize + "), got " + batchSequences);
        require(backlogBatches >= 1, "--backlog must be >= 1, got " + backlogBatches);
        require(raterRate > 0, "--rater-rate must be > 0, got " + raterRate);
        require(rmTrainEvery >= 8, "--rm-train-every must be >= 8, got " + rmTrainEvery);
        require(threads >= 0, "--threads must be >= 0, got " + threads);
        require(stageNice >= 0 && stageNice <= 19, "--stage-nice must be in [0, 19], got " + stageNice);
        require(maxNewTokens >= 4 && maxNewTokens <= 56, "--max-new-tokens must be in [4, 56], got " + maxNewTokens);
        require(learningRate > 0 && learningRate < 1, "--lr must be in (0, 1), got " + learningRate);
        Objects.requireNonNull(aggregation, "aggregation");
        require(Set.of("gae", "grpo", "rloo").contains(estimator),
                "--estimator must be gae, grpo or rloo, got " + estimator);
        checkMethod("--rm-method", Objects.requireNonNull(rmMethod, "rmMethod"));
        checkMethod("--online-rm-method", Objects.requireNonNull(onlineRmMethod, "onlineRmMethod"));
        ppoOverrides = Map.copyOf(Objects.requireNonNull(ppoOverrides, "ppoOverrides"));
        for (String key : ppoOverrides.keySet()) {
            require(PpoConfig.DEFINITION.names().contains(key),
                    "--ppo: unknown setting '" + key + "'; the ppo.* keys are listed in docs/learner.md");
        }
        try {
            new PpoConfig(ppoOverrides);
        } catch (ConfigException e) {
            throw new IllegalArgumentException("--ppo: " + e.getMessage(), e);
        }
    }

    private static void checkMethod(String flag, String method) {
        try {
            RmMethod.parse(method);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + ": " + e.getMessage(), e);
        }
    }

    /** The defaults of {@code rlhf demo}. */
    public static DemoOptions defaults() {
        return new DemoOptions(DEFAULT_LOOP, 1L, Path.of("demo-report"), DEFAULT_BETA, false, defaultCacheDir(),
                SftConfig.DEMO_STEPS, 4000, 3, 3, 256, 8, 64, DEFAULT_BACKLOG, 50.0, 64, 1, 40, 1e-4, null, true,
                "mean_minus_k_std", "gae",
                DEFAULT_RM_METHOD, Map.of(), DEFAULT_ONLINE_RM_METHOD, false, DEFAULT_STAGE_NICE);
    }

    /** The default loop budget of {@code rlhf demo --task verifiable}. */
    public static final Duration VERIFIABLE_LOOP = Duration.ofSeconds(120);

    /**
     * The defaults of {@code rlhf demo --task verifiable} ({@link VerifiableLoop}): GRPO over groups of 8 on the
     * verifier's 0/1 reward, 16 prompts a batch (the loop's pace is set by its latency, not by the tiny updates, so a
     * larger batch learns from more prompts a second), a short response budget (the answer is one word), a small KL
     * term and a learning rate for the sparse reward. The reward-model settings are not used. On two CPU cores the whole run, first SFT
     * included, takes about 3 minutes (docs/demo.md).
     */
    public static DemoOptions verifiableDefaults() {
        return defaults().toBuilder().loopBudget(VERIFIABLE_LOOP).beta(0.01).sftSteps(100).maxNewTokens(4)
                .batchSequences(128).learningRate(5e-4).aggregation("mean").estimator("grpo").build();
    }

    /** {@code $RLHF_CACHE_DIR}, else {@code ~/.cache/streamrlhf}; the demo's files go to {@code demo/} inside it. */
    public static Path defaultCacheDir() {
        String env = System.getenv("RLHF_CACHE_DIR");
        Path root = env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache",
                "streamrlhf");
        return root.resolve("demo");
    }

    /** Prompts per learner batch. */
    public int promptsPerBatch() {
        return batchSequences / groupSize;
    }

    /** A builder starting from these options. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Changes a few fields of a {@link DemoOptions}; {@link #build()} validates. */
    public static final class Builder {
        private Duration loopBudget;
        private long seed;
        private Path reportDir;
        private double beta;
        private boolean lockstep;
        private Path cacheDir;
        private int sftSteps;
        private int preferencePairs;
        private int rmEnsemble;
        private int rmEpochs;
        private int evalPrompts;
        private int groupSize;
        private int batchSequences;
        private int backlogBatches;
        private double raterRate;
        private int rmTrainEvery;
        private int threads;
        private int maxNewTokens;
        private double learningRate;
        private Double stopAtGold;
        private boolean showProgress;
        private String aggregation;
        private String estimator;
        private String rmMethod;
        private Map<String, String> ppoOverrides;
        private String onlineRmMethod;
        private boolean referenceInLearner;
        private int stageNice;

        private Builder(DemoOptions o) {
            loopBudget = o.loopBudget;
            seed = o.seed;
            reportDir = o.reportDir;
            beta = o.beta;
            lockstep = o.lockstep;
            cacheDir = o.cacheDir;
            sftSteps = o.sftSteps;
            preferencePairs = o.preferencePairs;
            rmEnsemble = o.rmEnsemble;
            rmEpochs = o.rmEpochs;
            evalPrompts = o.evalPrompts;
            groupSize = o.groupSize;
            batchSequences = o.batchSequences;
            backlogBatches = o.backlogBatches;
            raterRate = o.raterRate;
            rmTrainEvery = o.rmTrainEvery;
            threads = o.threads;
            maxNewTokens = o.maxNewTokens;
            learningRate = o.learningRate;
            stopAtGold = o.stopAtGold;
            showProgress = o.showProgress;
            aggregation = o.aggregation;
            estimator = o.estimator;
            rmMethod = o.rmMethod;
            ppoOverrides = o.ppoOverrides;
            onlineRmMethod = o.onlineRmMethod;
            referenceInLearner = o.referenceInLearner;
            stageNice = o.stageNice;
        }

        public Builder loopBudget(Duration v) { loopBudget = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder reportDir(Path v) { reportDir = v; return this; }
        public Builder beta(double v) { beta = v; return this; }
        public Builder lockstep(boolean v) { lockstep = v; return this; }
        public Builder cacheDir(Path v) { cacheDir = v; return this; }
        public Builder sftSteps(int v) { sftSteps = v; return this; }
        public Builder preferencePairs(int v) { preferencePairs = v; return this; }
        public Builder rmEnsemble(int v) { rmEnsemble = v; return this; }
        public Builder rmEpochs(int v) { rmEpochs = v; return this; }
        public Builder evalPrompts(int v) { evalPrompts = v; return this; }
        public Builder groupSize(int v) { groupSize = v; return this; }
        public Builder batchSequences(int v) { batchSequences = v; return this; }
        public Builder backlogBatches(int v) { backlogBatches = v; return this; }
        public Builder raterRate(double v) { raterRate = v; return this; }
        public Builder rmTrainEvery(int v) { rmTrainEvery = v; return this; }
        public Builder threads(int v) { threads = v; return this; }
        public Builder maxNewTokens(int v) { maxNewTokens = v; return this; }
        public Builder learningRate(double v) { learningRate = v; return this; }
        public Builder stopAtGold(Double v) { stopAtGold = v; return this; }
        public Builder showProgress(boolean v) { showProgress = v; return this; }
        public Builder aggregation(String v) { aggregation = v; return this; }
        public Builder estimator(String v) { estimator = v; return this; }
        public Builder rmMethod(String v) { rmMethod = v; return this; }
        public Builder ppoOverrides(Map<String, String> v) { ppoOverrides = v; return this; }
        public Builder onlineRmMethod(String v) { onlineRmMethod = v; return this; }
        public Builder referenceInLearner(boolean v) { referenceInLearner = v; return this; }
        public Builder stageNice(int v) { stageNice = v; return this; }

        /** The options; throws {@link IllegalArgumentException} naming the first bad value. */
        public DemoOptions build() {
            return new DemoOptions(loopBudget, seed, reportDir, beta, lockstep, cacheDir, sftSteps, preferencePairs,
                    rmEnsemble, rmEpochs, evalPrompts, groupSize, batchSequences, backlogBatches, raterRate,
                    rmTrainEvery, threads, maxNewTokens, learningRate, stopAtGold, showProgress, aggregation, estimator,
                    rmMethod, ppoOverrides, onlineRmMethod, referenceInLearner, stageNice);
        }
    }
}
