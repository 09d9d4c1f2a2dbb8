package io.streamrlhf.learner.ppo;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.ConfigException;

/**
 * Every setting of {@link PpoUpdate}, declared once with its default, validator and doc (Kafka's
 * {@link ConfigDef}, so {@code rlhf learn --config FILE} and the environment can set any of them).
 *
 * <p>Defaults follow PPO-max (Secrets of RLHF Part I, Zheng et al. 2023, section 5 and the MOSS-RLHF
 * release), scaled to the small models of the synthetic world: token-level KL penalty, reward
 * scaling and clipping, GAE with γ=1 and λ=0.95, policy and value clipping at 0.2, global
 * gradient-norm clipping at 1, advantage whitening, AdamW with warm-up. The entropy bonus and the
 * PPO-ptx loss are present but off by default (the paper found the entropy bonus unstable and
 * PPO-ptx needs a pre-training corpus).
 */
public final class PpoConfig extends AbstractConfig {

    /** β of the per-token KL penalty to the frozen reference. */
    public static final String KL_COEF = "ppo.kl.coef";
    /** Divide scores by a running standard deviation. */
    public static final String REWARD_SCALING = "ppo.reward.scaling";
    /** Also subtract the running mean. */
    public static final String REWARD_NORMALIZE_MEAN = "ppo.reward.normalize.mean";
    /** Clip scaled scores to ±this (0 = off). */
    public static final String REWARD_CLIP = "ppo.reward.clip";
    /** Discount γ. */
    public static final String GAMMA = "ppo.gamma";
    /** GAE λ. */
    public static final String LAMBDA = "ppo.lambda";
    /** Policy ratio clip ε. */
    public static final String CLIP_RANGE = "ppo.clip.range";
    /** Value clip. */
    public static final String VALUE_CLIP = "ppo.value.clip";
    /** shared (the policy's value head) or separate (a critic model of its own). */
    public static final String CRITIC = "ppo.critic";
    /** AdamW peak learning rate of a separate critic (unset: the policy's). */
    public static final String CRITIC_LEARNING_RATE = "ppo.critic.learning.rate";
    /** Weight of the value loss. */
    public static final String VF_COEF = "ppo.vf.coef";
    /** Weight of the entropy bonus. */
    public static final String ENTROPY_COEF = "ppo.entropy.coef";
    /** Weight of the PPO-ptx pre-training loss. */
    public static final String PTX_COEF = "ppo.ptx.coef";
    /** Whiten advantages per batch. */
    public static final String WHITEN_ADVANTAGES = "ppo.whiten.advantages";
    /** Global gradient-norm clip (0 = off). */
    public static final String MAX_GRAD_NORM = "ppo.max.grad.norm";
    /** Updates that train only the value head before the actor moves. */
    public static final String CRITIC_WARMUP_UPDATES = "ppo.critic.warmup.updates";
    /** AdamW peak learning rate. */
    public static final String LEARNING_RATE = "ppo.learning.rate";
    /** AdamW decoupled weight decay. */
    public static final String WEIGHT_DECAY = "ppo.weight.decay";
    /** Optimiser steps of linear learning-rate warm-up. */
    public static final String WARMUP_STEPS = "ppo.lr.warmup.steps";
    /** Passes over each batch. */
    public static final String EPOCHS = "ppo.epochs";
    /** Sequences per minibatch. */
    public static final String MINIBATCH_SIZE = "ppo.minibatch.size";
    /** Take the rollout statistics from the first minibatch's forward when one minibatch holds the batch. */
    public static final String FUSED_STATISTICS = "ppo.fused.statistics";
    /** Stop a batch's epochs early when approx-KL exceeds this (0 = off). */
    public static final String TARGET_KL = "ppo.target.kl";
    /** gae, grpo or rloo. */
    public static final String ADVANTAGE_ESTIMATOR = "ppo.advantage.estimator";
    /** Drop samples more than this many versions behind the current policy. */
    public static final String MAX_STALENESS = "ppo.max.staleness";
    /** Truncation of the behaviour/proximal importance weight. */
    public static final String IS_TRUNCATION = "ppo.is.truncation";
    /** Seeds the minibatch order. */
    public static final String SEED = "ppo.seed";

    /** How advantages are estimated. */
    public enum Estimator {
        /** Generalised advantage estimation over the critic's values (PPO-max). */
        GAE,
        /** Group-relative: (score − group mean) / group std (GRPO, Shao et al. 2024). */
        GRPO,
        /** Leave-one-out baseline: score − mean of the group's other scores (RLOO, Ahmadian et al. 2024). */
        RLOO
    }

    /** Where the values come from. */
    public enum Critic {
        /** The policy's value head on its own trunk: one model, one optimiser. */
        SHARED,
        /**
         * A critic model of its own, initialised from the reward model (Secrets of RLHF I, 5.3.3; MOSS-RLHF's
         * default), trained by its own optimiser on the value loss alone.
         */
        SEPARATE
    }

    /** The definition: each key once, with default, validator and doc. */
    public static final ConfigDef DEFINITION = definition();

    private static ConfigDef definition() {
        Range nonNegative = Range.atLeast(0.0);
        return new ConfigDef()
                .define(KL_COEF, Type.DOUBLE, 0.05, nonNegative, Importance.HIGH,
                        "β of the token-level KL penalty to the frozen reference, r_t = −β·(log π − log π_ref) "
                                + "(Secrets of RLHF I, sec. 5.3; 0.01–0.1 there). With grpo/rloo it weights a k3 "
                                + "KL term in the loss instead.")
                .define(REWARD_SCALING, Type.BOOLEAN, true, Importance.MEDIUM,
                        "Divide each score by the running standard deviation of scores (PPO-max 'reward scaling').")
                .define(REWARD_NORMALIZE_MEAN, Type.BOOLEAN, false, Importance.LOW,
                        "Also subtract the running mean of scores (PPO-max 'reward normalisation').")
                .define(REWARD_CLIP, Type.DOUBLE, 5.0, nonNegative, Importance.MEDIUM,
                        "Clip scaled scores to ±this value; 0 turns clipping off (PPO-max 'reward clipping', δ).")
                .define(GAMMA, Type.DOUBLE, 1.0, Range.between(0.0, 1.0), Importance.MEDIUM,
                        "Discount γ of GAE.")
                .define(LAMBDA, Type.DOUBLE, 0.95, Range.between(0.0, 1.0), Importance.MEDIUM,
                        "λ of GAE (Schulman et al. 2016).")
                .define(CLIP_RANGE, Type.DOUBLE, 0.2, Range.between(0.0, 1.0), Importance.HIGH,
                        "ε of the clipped policy loss max(−A·r, −A·clip(r, 1−ε, 1+ε)).")
                .define(VALUE_CLIP, Type.DOUBLE, 0.2, nonNegative, Importance.MEDIUM,
                        "Clip of the value update around the old values, 0.5·max(vf1, vf2) (PPO-max 'value clipping'); "
                                + "0 turns it off.")
                .define(CRITIC, Type.STRING, "shared", ValidString.in("shared", "separate"), Importance.HIGH,
                        "shared: the policy's value head is the critic (one trunk, one optimiser); separate: a critic "
                                + "model of its own, initialised from the reward model at learner.critic.init (Secrets "
                                + "of RLHF I, 5.3.3; MOSS-RLHF), trained by its own AdamW on the value loss while the "
                                + "policy's value head stays frozen. Needs ppo.advantage.estimator=gae.")
                .define(CRITIC_LEARNING_RATE, Type.DOUBLE, null, (name, value) -> {
                    if (value != null) {
                        Range.between(0.0, 1.0).ensureValid(name, value);
                    }
                }, Importance.MEDIUM,
                        "AdamW peak learning rate of a separate critic (ppo.critic=separate), with the policy's "
                                + "warm-up; unset, ppo.learning.rate.")
                .define(VF_COEF, Type.DOUBLE, 0.5, nonNegative, Importance.MEDIUM,
                        "Weight of the value loss against the policy loss on the shared trunk (ppo.critic=shared); a "
                                + "separate critic's loss is the value loss itself, with an optimiser and learning "
                                + "rate of its own.")
                .define(ENTROPY_COEF, Type.DOUBLE, 0.0, nonNegative, Importance.LOW,
                        "Weight of the entropy bonus; PPO-max leaves it off (it destabilised training in the paper).")
                .define(PTX_COEF, Type.DOUBLE, 0.0, nonNegative, Importance.LOW,
                        "Weight of the PPO-ptx pre-training loss on the SFT corpus (InstructGPT; Secrets of RLHF I); "
                                + "0 turns it off.")
                .define(WHITEN_ADVANTAGES, Type.BOOLEAN, true, Importance.MEDIUM,
                        "Whiten advantages per batch (zero mean, unit variance over response tokens).")
                .define(MAX_GRAD_NORM, Type.DOUBLE, 1.0, nonNegative, Importance.MEDIUM,
                        "Global gradient-norm clip; 0 turns it off.")
                .define(CRITIC_WARMUP_UPDATES, Type.INT, 0, Range.atLeast(0), Importance.MEDIUM,
                        "Updates that train only the critic (the value head, or a separate critic) before the "
                                + "actor moves (PPO-max 'critic pre-training'; use it when the critic is not "
                                + "initialised from a reward model).")
                .define(LEARNING_RATE, Type.DOUBLE, 1e-4, Range.between(0.0, 1.0), Importance.HIGH,
                        "AdamW peak learning rate.")
                .define(WEIGHT_DECAY, Type.DOUBLE, 0.0, nonNegative, Importance.LOW,
                        "AdamW decoupled weight decay.")
                .define(WARMUP_STEPS, Type.INT, 10, Range.atLeast(0), Importance.LOW,
                        "Optimiser steps of linear learning-rate warm-up, then constant.")
                .define(EPOCHS, Type.INT, 2, Range.atLeast(1), Importance.MEDIUM,
                        "PPO epochs over each batch.")
                .define(MINIBATCH_SIZE, Type.INT, 32, Range.atLeast(1), Importance.MEDIUM,
                        "Sequences per minibatch (a batch is split into ceil(B / this) minibatches).")
                .define(FUSED_STATISTICS, Type.BOOLEAN, true, Importance.LOW,
                        "When one minibatch holds the whole batch, read the proximal log-probs and old values from "
                                + "the first minibatch's own forward (same weights, same numbers) instead of a separate "
                                + "no-gradient forward: one policy forward less per update.")
                .define(TARGET_KL, Type.DOUBLE, 0.05, nonNegative, Importance.LOW,
                        "Stop the remaining epochs of a batch when approx-KL exceeds this (cleanrl's target_kl); "
                                + "0 turns it off.")
                .define(ADVANTAGE_ESTIMATOR, Type.STRING, "gae", ValidString.in("gae", "grpo", "rloo"),
                        Importance.HIGH,
                        "gae: critic values and GAE (PPO-max); grpo: (score − group mean)/group std; rloo: score − "
                                + "mean of the other samples of the prompt. grpo/rloo need groups (samples per prompt > 1).")
                .define(MAX_STALENESS, Type.INT, 4, Range.atLeast(0), Importance.HIGH,
                        "Drop samples generated more than this many policy versions ago (counted in "
                                + "data/dropped_stale).")
                .define(IS_TRUNCATION, Type.DOUBLE, 1.0, Range.atLeast(0.0), Importance.MEDIUM,
                        "Truncation c of the importance weight min(π_prox/π_behaviour, c) that corrects the "
                                + "behaviour/proximal mismatch of stale samples (decoupled PPO, Hilton et al. 2022).")
                .define(SEED, Type.LONG, 0L, Importance.LOW, "Seeds the minibatch order.");
    }

    /** Validates {@code values} (unknown keys are ignored so a service's whole file can be passed). */
    public PpoConfig(Map<?, ?> values) {
        super(DEFINITION, values, false);
        if (critic() == Critic.SEPARATE && estimator() != Estimator.GAE) {
            // Refused rather than ignored: a separate critic is a second model in memory that grpo/rloo never read.
            throw new ConfigException(CRITIC, getString(CRITIC), "a separate critic needs " + ADVANTAGE_ESTIMATOR
                    + "=gae; " + getString(ADVANTAGE_ESTIMATOR) + " estimates advantages without a critic");
        }
    }

    /** All defaults. */
    public static PpoConfig defaults() {
        return new PpoConfig(Map.of());
    }

    /** A copy with some settings replaced. */
    public PpoConfig with(Map<String, ?> overrides) {
        Map<String, Object> all = new HashMap<>(originals());
        all.putAll(overrides);
        return new PpoConfig(all);
    }

    /** A copy with one setting replaced. */
    public PpoConfig with(String key, Object value) {
        return with(Map.of(key, value));
    }

    public double klCoef() {
        return getDouble(KL_COEF);
    }

    public boolean rewardScaling() {
        return getBoolean(REWARD_SCALING);
    }

    public boolean rewardNormalizeMean() {
        return getBoolean(REWARD_NORMALIZE_MEAN);
    }

    public double rewardClip() {
        return getDouble(REWARD_CLIP);
    }

    public double gamma() {
        return getDouble(GAMMA);
    }

    public double lambda() {
        return getDouble(LAMBDA);
    }

    public double clipRange() {
        return getDouble(CLIP_RANGE);
    }

    public double valueClip() {
        return getDouble(VALUE_CLIP);
    }

    public Critic critic() {
        return Critic.valueOf(getString(CRITIC).toUpperCase(Locale.ROOT));
    }

    /** The separate critic's peak learning rate: {@value #CRITIC_LEARNING_RATE}, or the policy's when unset. */
    public double criticLearningRate() {
        Double own = getDouble(CRITIC_LEARNING_RATE);
        return own != null ? own : learningRate();
    }

    public double vfCoef() {
        return getDouble(VF_COEF);
    }

    public double entropyCoef() {
        return getDouble(ENTROPY_COEF);
    }

    public double ptxCoef() {
        return getDouble(PTX_COEF);
    }

    public boolean whitenAdvantages() {
        return getBoolean(WHITEN_ADVANTAGES);
    }

    public double maxGradNorm() {
        return getDouble(MAX_GRAD_NORM);
    }

    public int criticWarmupUpdates() {
        return getInt(CRITIC_WARMUP_UPDATES);
    }

    public double learningRate() {
        return getDouble(LEARNING_RATE);
    }

    public double weightDecay() {
        return getDouble(WEIGHT_DECAY);
    }

    public int warmupSteps() {
        return getInt(WARMUP_STEPS);
    }

    public int epochs() {
        return getInt(EPOCHS);
    }

    public int minibatchSize() {
        return getInt(MINIBATCH_SIZE);
    }

    public boolean fusedStatistics() {
        return getBoolean(FUSED_STATISTICS);
    }

    public double targetKl() {
        return getDouble(TARGET_KL);
    }

    public Estimator estimator() {
        return Estimator.valueOf(getString(ADVANTAGE_ESTIMATOR).toUpperCase(Locale.ROOT));
    }

    public int maxStaleness() {
        return getInt(MAX_STALENESS);
    }

    public double isTruncation() {
        return getDouble(IS_TRUNCATION);
    }

    public long seed() {
        return getLong(SEED);
    }
}
