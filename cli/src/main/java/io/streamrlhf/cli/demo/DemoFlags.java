package io.streamrlhf.cli.demo;

import io.streamrlhf.loop.demo.DemoOptions;
import io.streamrlhf.models.sft.SftConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The flags {@code rlhf demo} and {@code rlhf bench e2e} share (a picocli mixin). Unset flags keep
 * {@link DemoOptions#defaults()}.
 */
public final class DemoFlags {

    @Option(names = "--minutes", paramLabel = "N",
            description = "Minutes the loop runs once the starting models are ready (fractions allowed). Default: 3.")
    Double minutes;

    @Option(names = "--seed", paramLabel = "S", description = "Seeds everything (models, prompts, raters). Default: 1.")
    Long seed;

    @Option(names = "--beta", paramLabel = "B",
            description = "KL penalty coefficient to the SFT reference; 0 turns the penalty off. Default: 0.05.")
    Double beta;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Where the SFT policy and initial reward models are cached "
                    + "(default $RLHF_CACHE_DIR/demo, else ~/.cache/streamrlhf/demo).")
    Path cacheDir;

    @Option(names = "--threads", paramLabel = "N",
            description = "PyTorch threads per process; 1 is fastest on a busy 2-core machine, 0 uses all cores. Default: 1.")
    Integer threads;

    @Option(names = "--batch", paramLabel = "N", description = "Sequences per PPO update. Default: 64.")
    Integer batch;

    @Option(names = "--group-size", paramLabel = "K",
            description = "Samples per prompt (the GRPO group; raters compare two of them). Default: 8.")
    Integer groupSize;

    @Option(names = "--backlog", paramLabel = "N",
            description = "Streaming: batches of prompts in flight ahead of the learner (bounds the samples' "
                    + "staleness). Default: " + DemoOptions.DEFAULT_BACKLOG + ".")
    Integer backlog;

    @Option(names = "--lr", paramLabel = "X", description = "PPO learning rate. Default: 1e-4.")
    Double learningRate;

    @Option(names = "--rater-rate", paramLabel = "R", description = "Simulated rater labels per second. Default: 50.")
    Double raterRate;

    @Option(names = "--rm-train-every", paramLabel = "N",
            description = "New preference pairs per online reward-model round. Default: 64.")
    Integer rmTrainEvery;

    @Option(names = "--sft-steps", paramLabel = "N",
            description = "SFT steps on first run. Default: " + SftConfig.DEMO_STEPS + ".")
    Integer sftSteps;

    @Option(names = "--preference-pairs", paramLabel = "N",
            description = "Offline preference pairs for the initial reward models. Default: 4000.")
    Integer preferencePairs;

    @Option(names = "--rm-ensemble", paramLabel = "M", description = "Reward models in the ensemble. Default: 3.")
    Integer rmEnsemble;

    @Option(names = "--rm-epochs", paramLabel = "N", description = "Epochs of the initial reward models. Default: 3.")
    Integer rmEpochs;

    @Option(names = "--eval-prompts", paramLabel = "N",
            description = "Held-out prompts of the gold evaluation. Default: 256.")
    Integer evalPrompts;

    @Option(names = "--max-new-tokens", paramLabel = "N", description = "Response budget in tokens. Default: 40.")
    Integer maxNewTokens;

    @Option(names = "--aggregation", paramLabel = "NAME",
            description = "How the reward stream combines the ensemble: mean, min, mean_minus_k_std (k = 1: samples "
                    + "the reward models disagree on are penalised, which slows reward hacking) or majority_vote. "
                    + "Default: mean_minus_k_std.")
    String aggregation;

    @Option(names = "--estimator", paramLabel = "NAME",
            description = "Advantage estimator of the PPO learner: gae (critic), grpo or rloo (over a prompt's samples). "
                    + "Default: gae (the PPO-max recipe).")
    String estimator;

    @Option(names = "--rm-method", paramLabel = "METHOD",
            description = "How the initial reward models are trained (Secrets of RLHF II): bt, flip, smooth, margin, "
                    + "contrastive, meta, joined by '+'. Default: " + DemoOptions.DEFAULT_RM_METHOD + ".")
    String rmMethod;

    @Option(names = "--online-rm-method", paramLabel = "METHOD",
            description = "How the online reward-model trainer learns from live preferences: the names of --rm-method; "
                    + "meta adds MetaRM steps on the policy's current generations. Default: "
                    + DemoOptions.DEFAULT_ONLINE_RM_METHOD + ".")
    String onlineRmMethod;

    @Option(names = "--ppo", paramLabel = "KEY=VALUE", mapFallbackValue = "",
            description = "Overrides a PPO-max setting of the learner (a ppo.* key of docs/learner.md), e.g. "
                    + "--ppo ppo.epochs=1 --ppo ppo.minibatch.size=64. Repeatable.")
    Map<String, String> ppo;

    @Option(names = "--no-progress", description = "Do not draw the live progress line.")
    boolean noProgress;

    @Option(names = "--reference-in-learner",
            description = "The learner runs the frozen SFT reference in every update instead of the "
                    + "reward stream computing the reference's log-probs beside the reward models (which takes that "
                    + "forward off the learner's critical path). For comparisons.")
    boolean referenceInLearner;

    @Option(names = "--stage-nice", paramLabel = "N",
            description = "Streaming: nice value (0-19) of the policy sampler's and the reward scorer's threads, on "
                    + "Linux. They have slack (they work up to --backlog batches ahead) and the learner's update is "
                    + "the loop's critical path, so they yield to it when they share a core. 0 leaves them as the "
                    + "JVM's other threads; lockstep always does (its stages take turns). Default: "
                    + DemoOptions.DEFAULT_STAGE_NICE + ".")
    Integer stageNice;

    /** The defaults with every given flag applied. */
    public DemoOptions.Builder apply(DemoOptions.Builder b) {
        if (minutes != null) {
            b.loopBudget(Duration.ofMillis(Math.round(minutes * 60_000)));
        }
        if (seed != null) {
            b.seed(seed);
        }
        if (beta != null) {
            b.beta(beta);
        }
        if (cacheDir != null) {
            b.cacheDir(cacheDir);
        }
        if (threads != null) {
            b.threads(threads);
        }
        if (batch != null) {
            b.batchSequences(batch);
        }
        if (groupSize != null) {
            b.groupSize(groupSize);
        }
        if (backlog != null) {
            b.backlogBatches(backlog);
        }
        if (referenceInLearner) {
            b.referenceInLearner(true);
        }
        if (stageNice != null) {
            b.stageNice(stageNice);
        }
        if (learningRate != null) {
            b.learningRate(learningRate);
        }
        if (raterRate != null) {
            b.raterRate(raterRate);
        }
        if (rmTrainEvery != null) {
            b.rmTrainEvery(rmTrainEvery);
        }
        if (sftSteps != null) {
            b.sftSteps(sftSteps);
        }
        if (preferencePairs != null) {
            b.preferencePairs(preferencePairs);
        }
        if (rmEnsemble != null) {
            b.rmEnsemble(rmEnsemble);
        }
        if (rmEpochs != null) {
            b.rmEpochs(rmEpochs);
        }
        if (evalPrompts != null) {
            b.evalPrompts(evalPrompts);
        }
        if (maxNewTokens != null) {
            b.maxNewTokens(maxNewTokens);
        }
        if (aggregation != null) {
            b.aggregation(aggregation);
        }
        if (estimator != null) {
            b.estimator(estimator);
        }
        if (rmMethod != null) {
            b.rmMethod(rmMethod);
        }
        if (ppo != null) {
            b.ppoOverrides(ppo);
        }
        if (onlineRmMethod != null) {
            b.onlineRmMethod(onlineRmMethod);
        }
        b.showProgress(!noProgress);
        return b;
    }
}
