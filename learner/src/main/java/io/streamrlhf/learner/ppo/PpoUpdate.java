package io.streamrlhf.learner.ppo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.util.Pair;
import io.streamrlhf.learner.ppo.PpoConfig.Estimator;
import io.streamrlhf.models.critic.ValueModel;
import io.streamrlhf.models.engine.NoGrad;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.policy.PolicyOutput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PPO-max: one update of the policy and its critic on a batch of scored samples, read top
 * to bottom. Every trick is a named {@link PpoConfig} setting read where it is used, with a
 * comment citing where it comes from. "Secrets I" is Zheng et al. 2023, <i>Secrets of RLHF in
 * Large Language Models Part I: PPO</i>, whose PPO-max recipe and MOSS-RLHF release set the
 * defaults.
 *
 * <pre>
 *   update(samples, version)
 *     1. off-policy filter      drop samples more than max_staleness versions old
 *     2. pack                   right-padded (B, T) tokens; the action frame (B, F) runs from the
 *                               shortest prompt's last position to T − 2
 *     3. rollout statistics     proximal log-probs, values (current policy, critic), reference log-probs
 *     4. importance weights     min(π_prox / π_behaviour, c)            decoupled PPO
 *     5. reward scaling         score / running std, clipped           Secrets I 5.3.1
 *     6. KL-shaped rewards      r_t = −β(log π_prox − log π_ref), score at the last token
 *     7. advantages             GAE(γ, λ) over values, or GRPO / RLOO over prompt groups
 *     8. whitening              advantages to zero mean, unit variance
 *     9. epochs × minibatches   clipped policy loss, clipped value loss, entropy, ptx,
 *                               gradient-norm clip, AdamW with warm-up, critic warm-up,
 *                               early stop on approx-KL
 * </pre>
 *
 * <p>The code follows these steps in this order. One shortcut is kept apart, after step 9
 * ({@code fusesStatistics}, {@code ppo.fused.statistics}): when one minibatch holds the whole batch,
 * steps 3–8 read the first minibatch's own forward instead of running a policy forward of their own.
 *
 * <table>
 *   <caption>Dimension letters</caption>
 *   <tr><td>B</td><td>sequences in the batch (minibatch inside a step)</td></tr>
 *   <tr><td>T</td><td>longest prompt + response in the batch</td></tr>
 *   <tr><td>F</td><td>the action frame, positions [s, T − 1) with s the shortest prompt's last position: entry j
 *   scores the token at s + j + 1</td></tr>
 *   <tr><td>V</td><td>vocabulary</td></tr>
 * </table>
 *
 * <p>The critic ({@code ppo.critic}) is the policy's value head on its shared trunk, or a separate
 * {@link ValueModel} initialised from the reward model (Secrets I 5.3.3, MOSS-RLHF's default): then
 * step 3's values and the value loss are that model's, it is trained by an AdamW of its own on the
 * value loss alone ({@code ppo.critic.learning.rate}), the policy's AdamW sees the policy loss alone,
 * and the policy's value head is frozen (it still computes, nothing reads it).
 *
 * <p>The formulas themselves (importance weights, shaped rewards, GAE, group advantages, whitening, the
 * losses, the diagnostics) are pure functions in {@link PpoMath}; the packed batch is a {@link Rollout}.
 *
 * <p>Every log-prob of a sampled token (proximal, new, reference) and the entropy are taken with each row's logits
 * divided by the temperature its worker sampled at ({@link RolloutSample#logitTemperature()}), the distribution
 * its behaviour log-probs were recorded under; PPO-ptx alone reads the raw policy. Top-k and top-p are not
 * applied: the learner's log-probs are the full tempered distribution's, as TRL's PPO trainer's and veRL's are,
 * while the samplers record the log-prob under the truncated, renormalised distribution, so with truncation
 * π_prox/π_behaviour starts at the kept mass (at most 1) rather than at 1, and step 4's importance weight
 * down-weights those tokens by it.
 *
 * <p>Uses the JVM's one {@code GradientCollector}: one {@code PpoUpdate} trains at a time per
 * process. Not thread-safe.
 */
public final class PpoUpdate {

    private static final Logger LOG = LoggerFactory.getLogger(PpoUpdate.class);

    private final PpoConfig config;
    private final PolicyModel policy;
    private final PolicyModel reference;
    private final PtxSource ptx;
    private final CheckpointableAdamW optimizer = new CheckpointableAdamW();
    /** The separate critic, or null when the policy's value head is the critic. */
    private final ValueModel critic;
    /** The separate critic's AdamW, or null. */
    private final CheckpointableAdamW criticOptimizer;
    private final SplittableRandom random;
    private RunningMoments scoreMoments = new RunningMoments();
    private long updates;
    private long optimizerSteps;

    /**
     * An update whose critic is the policy's value head ({@code ppo.critic=shared}).
     *
     * @param config    the settings
     * @param policy    the policy to train (its value head is the critic); unfrozen here
     * @param reference the frozen reference (the SFT policy); never trained
     * @param ptx       pre-training batches for PPO-ptx, or {@code null} when {@code ppo.ptx.coef} is 0
     */
    public PpoUpdate(PpoConfig config, PolicyModel policy, PolicyModel reference, PtxSource ptx) {
        this(config, policy, reference, ptx, null);
    }

    /**
     * An update with the critic {@code ppo.critic} names.
     *
     * @param config    the settings
     * @param policy    the policy to train; unfrozen here, except its value head when {@code critic} is given
     * @param reference the frozen reference (the SFT policy); never trained
     * @param ptx       pre-training batches for PPO-ptx, or {@code null} when {@code ppo.ptx.coef} is 0
     * @param critic    the separate critic ({@code ppo.critic=separate}; unfrozen and trained here, closed by the
     *                  caller), or {@code null} for the policy's value head ({@code shared})
     * @throws IllegalArgumentException when {@code critic} does not match {@code ppo.critic} or cannot read the
     *                                  policy's sequences (another vocabulary size, a shorter context)
     */
    public PpoUpdate(PpoConfig config, PolicyModel policy, PolicyModel reference, PtxSource ptx, ValueModel critic) {
        if (config.ptxCoef() > 0 && ptx == null) {
            throw new IllegalArgumentException(PpoConfig.PTX_COEF + " is " + config.ptxCoef()
                    + " but no PPO-ptx source was given");
        }
        if (!policy.config().equals(reference.config())) {
            throw new IllegalArgumentException("policy " + policy.config() + " and reference " + reference.config()
                    + " differ in shape");
        }
        checkCritic(config, policy, critic);
        this.config = config;
        this.policy = policy;
        this.reference = reference;
        this.ptx = ptx;
        this.random = new SplittableRandom(config.seed());
        this.critic = critic;
        this.criticOptimizer = critic == null ? null : new CheckpointableAdamW();
        policy.freeze(false);
        if (critic != null) {
            // The policy's value head takes no gradient and no step: with a separate critic nothing reads it.
            for (Pair<String, Parameter> p : policy.block().getParameters()) {
                if (isValueHead(p.getKey())) {
                    p.getValue().freeze(true);
                }
            }
            critic.freeze(false);
        }
    }

    private static void checkCritic(PpoConfig config, PolicyModel policy, ValueModel critic) {
        if (config.critic() == PpoConfig.Critic.SEPARATE && critic == null) {
            throw new IllegalArgumentException(PpoConfig.CRITIC + " is separate but no critic was given");
        }
        if (config.critic() == PpoConfig.Critic.SHARED && critic != null) {
            throw new IllegalArgumentException("a separate critic was given but " + PpoConfig.CRITIC + " is shared");
        }
        if (critic != null && critic.config().vocabSize() != policy.config().vocabSize()) {
            throw new IllegalArgumentException("the critic's vocabulary has " + critic.config().vocabSize()
                    + " ids but the policy's " + policy.config().vocabSize() + "; it must share the policy's "
                    + "tokenization");
        }
        if (critic != null && critic.config().contextLength() < policy.config().contextLength()) {
            throw new IllegalArgumentException("the critic runs at most " + critic.config().contextLength()
                    + " positions but the policy's sequences run to " + policy.config().contextLength());
        }
    }

    /** The settings. */
    public PpoConfig config() {
        return config;
    }

    /** Completed updates (restored from checkpoints). */
    public long updates() {
        return updates;
    }

    /**
     * One PPO-max update on {@code samples}.
     *
     * @param currentVersion the version of the policy being trained (staleness is measured against it)
     */
    public PpoStats update(List<RolloutSample> samples, long currentVersion) {
        // Only the minibatch steps record gradients (inside their GradientCollector); the reference
        // and rollout forwards, the diagnostics and the optimiser do not, whatever thread this is.
        try (NoGrad ignored = NoGrad.enter()) {
            Rollout rollout = filterAndPack(samples, currentVersion);  // 1–2
            Map<String, Double> steps = new LinkedHashMap<>();
            if (rollout.rows > 0) {
                boolean fused = fusesStatistics(rollout);
                if (!fused) {
                    statisticsAndAdvantages(rollout);  // 3–8
                }
                optimise(rollout, steps, fused);  // 9 (fused: with 3–8 in its first step)
            }
            // Read after the steps: a fused first step fills in the rollout statistics.
            Map<String, Double> metrics = new LinkedHashMap<>(rollout.metrics);
            metrics.putAll(steps);
            updates++;
            return new PpoStats(metrics, rollout.trainedIds(), rollout.droppedStale, rollout.droppedTooLong);
        }
    }

    /** Steps 1–8 on their own (tests read the importance weights and advantages they produce). */
    Rollout prepare(List<RolloutSample> samples, long currentVersion) {
        try (NoGrad ignored = NoGrad.enter()) {
            Rollout r = filterAndPack(samples, currentVersion);
            if (r.rows > 0) {
                statisticsAndAdvantages(r);
            }
            return r;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Steps 1–2: from samples to a packed batch, on the host.
    // ---------------------------------------------------------------------------------------------

    /** Steps 1–2: the off-policy filter and packing. */
    private Rollout filterAndPack(List<RolloutSample> samples, long currentVersion) {
        Rollout r = new Rollout();

        // 1. Off-policy filter. Streaming makes data off-policy: a sample carries the version that
        //    generated it, and anything older than max_staleness versions is dropped (DESIGN §5).
        List<RolloutSample> kept = new ArrayList<>();
        double stalenessSum = 0;
        int context = policy.config().contextLength();
        for (RolloutSample s : samples) {
            long staleness = currentVersion - s.policyVersion();
            stalenessSum += Math.max(0, staleness);
            if (staleness > config.maxStaleness()) {
                r.droppedStale.add(s.generationId());
            } else if (s.promptTokens().length >= context) {
                r.droppedTooLong.add(s.generationId());
            } else {
                kept.add(s);
            }
        }
        r.metrics.put("data/staleness", samples.isEmpty() ? 0.0 : stalenessSum / samples.size());
        r.metrics.put("data/dropped_stale", (double) r.droppedStale.size());
        r.metrics.put("data/sequences", (double) kept.size());
        if (!r.droppedStale.isEmpty()) {
            LOG.info("dropped {} sample(s) more than {} versions behind version {}", r.droppedStale.size(),
                    config.maxStaleness(), currentVersion);
        }
        if (!r.droppedTooLong.isEmpty()) {
            LOG.warn("dropped {} sample(s) whose prompt fills the context of {} tokens", r.droppedTooLong.size(),
                    context);
        }
        r.samples = kept;
        r.rows = kept.size();
        if (r.rows == 0) {
            return r;
        }

        // 2. Pack right-padded rows; responses that overflow the context are cut at it.
        r.pack(kept, context);
        r.metrics.put("data/tokens", (double) r.maskCount);
        // Reference log-probs the reward stream computed with this learner's reference (RolloutSample checks the
        // reference's id) replace the reference forward of step 3, when every row has them for all its tokens.
        r.metrics.put("data/reference_given", r.useGivenReference(kept) ? 1.0 : 0.0);
        return r;
    }

    // ---------------------------------------------------------------------------------------------
    // Steps 3–8: rollout statistics (the two forwards), then advantages on the host.
    // ---------------------------------------------------------------------------------------------

    /** Steps 3–8 with their own no-gradient policy forward. */
    private void statisticsAndAdvantages(Rollout r) {
        try (NDManager m = policy.manager().newSubManager()) {
            RolloutInputs in = r.inputs(m, identity(r.rows));
            PolicyOutput out = in.forward(policy, false);
            NDArray logpAll = in.logSoftmax(out.logits());  // (B, F, V), at each row's sampling temperature
            rolloutStatistics(r, in, logpAll, gather(logpAll, in.actions()), values(out, in, false), null, m);
            out.logits().attach(m);
            out.values().attach(m);
        }
        advantages(r);
    }

    /**
     * Step 3: rollout statistics under the current (proximal) policy, from its forward over all rows
     * (log-softmax (B, F, V), the actions' log-probs (B, F), values (B, F)), and under the frozen
     * reference. Only values are read, so the forward may be one that records gradients.
     */
    private void rolloutStatistics(Rollout r, RolloutInputs in, NDArray logpAll, NDArray logp, NDArray values,
                                   NDArray entropy, NDManager m) {
        r.proxLogp = logp.toFloatArray();  // (B, F)
        r.oldValues = values.toFloatArray();  // (B, F)
        // Inside a fused step these read the forward of the loss: no graph for what is only read.
        try (NoGrad ignored = NoGrad.enter()) {
            if (entropy == null) {
                NDArray mask = m.create(r.mask, new Shape(r.rows, r.f));  // (B, F)
                entropy = PpoMath.entropy(logpAll, mask, r.maskCount);
            }
            r.metrics.put("policy/entropy", (double) entropy.getFloat());
            if (r.refLogp == null) {
                // The reference at the row's sampling temperature too, as TRL's PPO trainer divides both the policy's
                // and the reference's logits by it: the KL penalty then compares the two tempered distributions,
                // which is 0 for a policy still equal to its reference. Against the raw reference a tempered policy
                // would pay a KL for the temperature alone and be pushed to undo it.
                NDArray refLogits = in.forward(reference, false).logits();  // (B, F, V)
                r.refLogp = gather(in.logSoftmax(refLogits), in.actions()).toFloatArray();  // (B, F)
            }
        }
    }

    /** Steps 4–8, on the host: importance weights, reward scaling, shaped rewards, advantages, whitening. */
    private void advantages(Rollout r) {
        List<RolloutSample> kept = r.samples;

        // 4. Decoupled PPO (Hilton et al. 2022, "Batch size-invariance for policy optimization"):
        //    the clipped objective is taken around the proximal policy (the current weights), and the
        //    behaviour/proximal mismatch of stale samples is corrected by an importance weight
        //    truncated at c, as V-trace truncates (Espeholt et al. 2018).
        r.isWeights = new float[r.rows * r.f];
        double weightSum = 0;
        int truncated = 0;
        for (int k = 0; k < r.isWeights.length; k++) {
            if (r.mask[k] > 0) {
                double raw = Math.exp(r.proxLogp[k] - r.behaviourLogp[k]);
                double w = PpoMath.truncatedWeight(r.proxLogp[k], r.behaviourLogp[k], config.isTruncation());
                truncated += raw > w ? 1 : 0;
                r.isWeights[k] = (float) w;
                weightSum += w;
            }
        }
        r.metrics.put("offpolicy/is_weight_mean", weightSum / r.maskCount);
        r.metrics.put("offpolicy/is_truncated_frac", (double) truncated / r.maskCount);

        // 5. Reward scaling (Secrets I, 5.3.1 "score reparameterisation"): divide by the running std
        //    of all scores seen, optionally subtract the running mean, clip to ±δ.
        double[] scores = new double[r.rows];
        double ensembleStd = 0;
        for (int i = 0; i < r.rows; i++) {
            scores[i] = kept.get(i).score();
            ensembleStd += kept.get(i).ensembleStd() / r.rows;
        }
        r.metrics.put("reward/mean", mean(scores));
        r.metrics.put("reward/ensemble_std", ensembleStd);
        if (config.rewardScaling() || config.rewardNormalizeMean()) {
            scoreMoments.update(scores);
        }
        double[] scaled = new double[r.rows];
        for (int i = 0; i < r.rows; i++) {
            double s = scores[i];
            if (config.rewardNormalizeMean()) {
                s -= scoreMoments.mean();
            }
            if (config.rewardScaling()) {
                s /= scoreMoments.std();
            }
            if (config.rewardClip() > 0) {
                s = Math.max(-config.rewardClip(), Math.min(config.rewardClip(), s));
            }
            scaled[i] = s;
        }
        r.metrics.put("reward/scaled_mean", mean(scaled));

        // 6–7. Advantages and returns.
        r.advantages = new float[r.rows * r.f];
        r.returns = new float[r.rows * r.f];
        double klSum = 0;
        Estimator estimator = config.estimator();
        double[] groupAdvantages = estimator == Estimator.GAE ? null
                : PpoMath.groupAdvantages(estimator, scaled,
                        kept.stream().map(RolloutSample::promptId).toArray(String[]::new));
        for (int i = 0; i < r.rows; i++) {
            int start = r.rowStart[i];
            int n = r.rowLength[i];
            double[] logp = new double[n];
            double[] refLogp = new double[n];
            double[] values = new double[n];
            for (int j = 0; j < n; j++) {
                int k = i * r.f + start + j;
                logp[j] = r.proxLogp[k];
                refLogp[j] = r.refLogp[k];
                values[j] = r.oldValues[k];
                klSum += logp[j] - refLogp[j];
            }
            double[] advantages = new double[n];
            double[] returns = new double[n];
            if (estimator == Estimator.GAE) {
                // 6. Token-level KL penalty to the frozen SFT reference (Secrets I, eq. 9; Ziegler et al.
                //    2019): r_t = −β·(log π − log π_ref), the reward model's score added at the last token.
                double[] rewards = PpoMath.shapeRewards(logp, refLogp, config.klCoef(), scaled[i]);
                // 7. GAE (Schulman et al. 2016) with γ and λ; returns = advantages + values (Secrets I 5.3.2).
                PpoMath.gae(rewards, values, config.gamma(), config.lambda(), advantages, returns);
            } else {
                // 7'. Critic-free group baselines: every token of a response gets its group advantage.
                Arrays.fill(advantages, groupAdvantages[i]);
                Arrays.fill(returns, groupAdvantages[i]);
            }
            for (int j = 0; j < n; j++) {
                int k = i * r.f + start + j;
                r.advantages[k] = (float) advantages[j];
                r.returns[k] = (float) returns[j];
            }
        }
        // KL of the sampled sequences to the reference, summed over tokens, averaged over sequences.
        r.metrics.put("policy/kl_ref", klSum / r.rows);
        r.metrics.put("losses/explained_variance", PpoMath.explainedVariance(r.oldValues, r.returns, r.mask));

        // 8. Advantage whitening (Secrets I 5.3.2 "advantage normalisation"; cleanrl's norm_adv).
        if (config.whitenAdvantages()) {
            PpoMath.whiten(r.advantages, r.mask);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Step 9: epochs of minibatches.
    // ---------------------------------------------------------------------------------------------

    private void optimise(Rollout r, Map<String, Double> metrics, boolean fused) {
        // Critic warm-up (Secrets I 5.3.3, "critic model initialisation" / pre-training): for the
        // first updates only the value head learns, so the actor does not follow a random critic.
        boolean actorMoves = updates >= config.criticWarmupUpdates();
        int minibatch = Math.min(config.minibatchSize(), r.rows);
        Map<String, Double> sums = new LinkedHashMap<>();
        int steps = 0;
        int epochsRun = 0;
        boolean earlyStopped = false;
        for (int epoch = 0; epoch < config.epochs() && !earlyStopped; epoch++) {
            // The fused first step keeps the packed order, so its forward's rows are the rollout's rows.
            boolean fuseThis = fused && epoch == 0;
            int[] order = fuseThis ? identity(r.rows) : permutation(r.rows);
            for (int from = 0; from < r.rows; from += minibatch) {
                int[] rows = Arrays.copyOfRange(order, from, Math.min(r.rows, from + minibatch));
                Map<String, Double> step = step(r, rows, actorMoves, fuseThis);
                if (steps == 0) {
                    metrics.put("ppo/first_ratio_mean", step.get("ppo/ratio_mean"));
                    metrics.put("ppo/first_ratio_max_dev", step.get("ppo/ratio_max_dev"));
                    metrics.put("ppo/first_approx_kl", step.get("losses/approx_kl"));
                }
                step.forEach((k, v) -> sums.merge(k, v, Double::sum));
                steps++;
                // Early stop on approx-KL (cleanrl's target_kl): the remaining epochs would move the
                // policy too far from the one that produced the advantages.
                if (config.targetKl() > 0 && step.get("losses/approx_kl") > config.targetKl()) {
                    earlyStopped = true;
                    break;
                }
            }
            epochsRun++;
        }
        for (Map.Entry<String, Double> e : sums.entrySet()) {
            if (!e.getKey().equals("ppo/ratio_max_dev")) {
                metrics.put(e.getKey(), e.getValue() / steps);
            }
        }
        metrics.put("ppo/epochs", (double) epochsRun);
        metrics.put("ppo/early_stopped", earlyStopped ? 1.0 : 0.0);
        metrics.put("ppo/actor_moves", actorMoves ? 1.0 : 0.0);
        metrics.put("ppo/minibatch_steps", (double) steps);
    }

    /**
     * One minibatch: forward with gradients, the PPO-max loss, backward, clip, AdamW. With
     * {@code fused}, {@code rows} are all rows in packed order and {@link #fusedStatistics} runs
     * steps 3–8 between the forward and the loss.
     */
    private Map<String, Double> step(Rollout r, int[] rows, boolean actorMoves, boolean fused) {
        Map<String, Double> out = new LinkedHashMap<>();
        int b = rows.length;
        Engine engine = policy.manager().getEngine();
        try (NDManager m = policy.manager().newSubManager()) {
            RolloutInputs in = r.inputs(m, rows);
            NDArray actions = in.actions();  // (B, F)
            float[] maskHost = Rollout.rowsOf(r.mask, rows, r.f);
            float maskSum = 0;
            for (float v : maskHost) {
                maskSum += v;
            }
            NDArray mask = m.create(maskHost, new Shape(b, r.f));  // (B, F)

            NDArray loss;
            NDArray ratio;
            NDArray logratio;
            try (GradientCollector gc = engine.newGradientCollector()) {
                PolicyOutput forward = in.forward(policy, true);
                // At each row's sampling temperature, as step 3: the ratio, the entropy bonus and the k3 KL term
                // all read the tempered distribution the samples came from.
                NDArray logpAll = in.logSoftmax(forward.logits());  // (B, F, V)
                NDArray newLogp = gather(logpAll, actions);  // (B, F)
                NDArray newValues = values(forward, in, true);  // (B, F)
                NDArray entropy = actorMoves && config.entropyCoef() > 0
                        ? PpoMath.entropy(logpAll, mask, maskSum) : null;
                if (fused) {
                    fusedStatistics(r, in, logpAll, newLogp, newValues, entropy, m);
                }
                NDArray proxLogp = m.create(Rollout.rowsOf(r.proxLogp, rows, r.f), new Shape(b, r.f));  // (B, F)
                NDArray oldValues = m.create(Rollout.rowsOf(r.oldValues, rows, r.f), new Shape(b, r.f));  // (B, F)
                NDArray advantages = m.create(Rollout.rowsOf(r.advantages, rows, r.f), new Shape(b, r.f));  // (B, F)
                NDArray returns = m.create(Rollout.rowsOf(r.returns, rows, r.f), new Shape(b, r.f));  // (B, F)
                NDArray isWeights = m.create(Rollout.rowsOf(r.isWeights, rows, r.f), new Shape(b, r.f));  // (B, F)
                NDArray refLogp = m.create(Rollout.rowsOf(r.refLogp, rows, r.f), new Shape(b, r.f));  // (B, F)
                logratio = newLogp.sub(proxLogp);  // (B, F)
                ratio = logratio.exp();  // (B, F)

                // Clipped value loss (Secrets I 5.3.2 "value function loss clipping"): 0.5·max(vf1, vf2).
                NDArray vLoss = PpoMath.valueLoss(newValues, oldValues, returns, mask, maskSum, config.valueClip());
                out.put("losses/value_loss", (double) vLoss.getFloat());
                // Critic-free estimators (GRPO, RLOO) leave the value head untrained. A separate critic shares no
                // parameter with the policy: its loss is the value loss itself, and one backward of the sum gives
                // each model the gradient of its own term.
                loss = vLoss.mul((float) (config.estimator() != Estimator.GAE ? 0.0
                        : critic == null ? config.vfCoef() : 1.0));
                if (actorMoves) {
                    // Clipped surrogate (Schulman et al. 2017), weighted per token by the truncated
                    // importance weights of step 4.
                    NDArray pgLoss = PpoMath.policyLoss(advantages, ratio, isWeights, mask, maskSum,
                            config.clipRange());
                    loss = loss.add(pgLoss);
                    out.put("losses/policy_loss", (double) pgLoss.getFloat());
                    if (entropy != null) {
                        // Entropy bonus (Secrets I 5.3.2; off in PPO-max by default).
                        loss = loss.sub(entropy.mul((float) config.entropyCoef()));
                    }
                    if (config.estimator() != Estimator.GAE && config.klCoef() > 0) {
                        // GRPO puts the KL to the reference in the loss (k3 estimator, Shao et al. 2024).
                        NDArray kl = PpoMath.klK3(newLogp, refLogp, mask, maskSum);
                        loss = loss.add(kl.mul((float) config.klCoef()));
                        out.put("losses/kl_loss", (double) kl.getFloat());
                    }
                    if (config.ptxCoef() > 0) {
                        // PPO-ptx (Ouyang et al. 2022; Secrets I 5.3.3): keep the pre-training likelihood.
                        NDArray ptxLoss = ptxLoss(m, ptx.next(b, policy.config().contextLength()));
                        loss = loss.add(ptxLoss.mul((float) config.ptxCoef()));
                        out.put("losses/ptx_loss", (double) ptxLoss.getFloat());
                    }
                }
                gc.backward(loss);
            }

            // Diagnostics, cleanrl's formulas: approx-KL k3 = mean((r − 1) − log r), clip fraction; on
            // the host from one copy of log r (a few thousand values) rather than a dozen small kernels.
            PpoMath.diagnostics(logratio.toFloatArray(), maskHost, maskSum, config.clipRange(), out);
            out.put("losses/loss", (double) loss.getFloat());

            // Global gradient-norm clipping (Secrets I 5.3.2; PyTorch's clip_grad_norm_), then AdamW with
            // linear learning-rate warm-up; during critic warm-up only the value head moves. The optimiser
            // does both over one flat vector of all gradients. A separate critic has its own AdamW, clip and
            // learning rate (same warm-up); during its warm-up the policy takes no step at all.
            double warmup = config.warmupSteps() == 0 ? 1.0
                    : Math.min(1.0, (optimizerSteps + 1.0) / config.warmupSteps());
            double lr = config.learningRate() * warmup;
            double gradNorm = 0.0;
            if (critic == null || actorMoves) {
                gradNorm = optimizer.step(policy.block(), m, (float) lr, (float) config.weightDecay(),
                        actorMoves ? name -> true : PpoUpdate::isValueHead, config.maxGradNorm());
            }
            out.put("charts/grad_norm", gradNorm);
            if (critic != null) {
                double criticLr = config.criticLearningRate() * warmup;
                out.put("charts/critic_grad_norm", criticOptimizer.step(critic.block(), m, (float) criticLr,
                        (float) config.weightDecay(), name -> true, config.maxGradNorm()));
                out.put("charts/critic_learning_rate", criticLr);
            }
            optimizerSteps++;
            out.put("charts/learning_rate", lr);
            loss.attach(m);
        }
        return out;
    }

    private NDArray ptxLoss(NDManager m, PtxSource.PtxBatch batch) {
        NDArray tokens = m.create(batch.tokens(), new Shape(batch.rows(), batch.length()));  // (B, T)
        NDArray attention = m.create(batch.attention(), new Shape(batch.rows(), batch.length()));  // (B, T)
        NDArray lossMask = m.create(batch.lossMask(), new Shape(batch.rows(), batch.length() - 1));  // (B, F)
        // The pre-training likelihood is the raw policy's (temperature 1): it is no sample's behaviour.
        NDArray logits = policy.forwardFrame(tokens, attention, true, 0).logits();  // (B, T - 1, V)
        NDArray logp = gather(logits.logSoftmax(-1), tokens.get(":, 1:")
                .toType(DataType.INT64, false));  // (B, F)
        return logp.mul(lossMask).sum().neg().div(lossMask.sum());
    }

    /** The policy's value head: ours ({@code value_weight}, {@code value_bias}) or TRL's ({@code v_head.*}). */
    private static boolean isValueHead(String parameterName) {
        return parameterName.contains("value") || parameterName.startsWith("v_head");
    }

    /**
     * The critic's values over the action frame (B, F): the policy's value head from its forward {@code out}, or the
     * separate critic's own forward over the same inputs.
     */
    private NDArray values(PolicyOutput out, RolloutInputs in, boolean training) {
        NDArray all = critic == null ? out.values()
                : critic.values(in.tokens(), in.attention(), training);  // (B, T)
        return in.frame(all);  // (B, F)
    }

    private static int[] identity(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }

    private int[] permutation(int n) {
        int[] a = identity(n);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = a[i];
            a[i] = a[j];
            a[j] = tmp;
        }
        return a;
    }

    // ---------------------------------------------------------------------------------------------
    // Fused statistics (ppo.fused.statistics): steps 3–8 off the first minibatch's forward.
    // ---------------------------------------------------------------------------------------------

    /**
     * Whether steps 3–8 run inside the first minibatch step instead of before the epochs. When one
     * minibatch holds the whole batch, that step's forward (with gradients) runs on exactly the weights
     * step 3 reads, over the same rows in packed order: its detached outputs are the proximal log-probs
     * and old values, and step 3's own no-gradient policy forward is skipped. On the workload of
     * {@code rlhf bench learner} (64 sequences, one epoch, one minibatch, one thread) an update took
     * 188 ms of CPU fused against 227 ms not (median of 60 interleaved pairs, ratio 0.80). The
     * learner's and the demo's defaults (batches of 64 in minibatches of 32) do not fuse.
     */
    private boolean fusesStatistics(Rollout r) {
        return config.fusedStatistics() && config.minibatchSize() >= r.rows;
    }

    /**
     * Steps 3–8 from the first minibatch's forward: log-softmax (B, F, V), the actions' log-probs
     * (B, F), values (B, F), and the entropy bonus's term when the loss has one (it is then also the
     * rollout's entropy: same forward, same rows).
     */
    private void fusedStatistics(Rollout r, RolloutInputs in, NDArray logpAll, NDArray logp, NDArray values,
                                 NDArray entropy, NDManager m) {
        rolloutStatistics(r, in, logpAll, logp, values, entropy, m);
        advantages(r);
    }

    private static NDArray gather(NDArray logpAll, NDArray actions) {
        return logpAll.gather(actions.expandDims(-1), -1).squeeze(-1);  // (B, F)
    }

    private static double mean(double[] xs) {
        double s = 0;
        for (double x : xs) {
            s += x;
        }
        return xs.length == 0 ? 0.0 : s / xs.length;
    }

    // ---------------------------------------------------------------------------------------------
    // State that checkpoints carry.
    // ---------------------------------------------------------------------------------------------

    /**
     * Everything besides the weights that a restarted learner needs to continue exactly.
     *
     * @param updates         completed updates
     * @param optimizerSteps  AdamW steps taken (drives the warm-up)
     * @param scoreMoments    the reward scaler's {count, mean, M2}
     * @param optimizer       the policy's AdamW moments ({@link CheckpointableAdamW#state()})
     * @param criticOptimizer a separate critic's AdamW moments, or {@code null} without one
     */
    public record State(long updates, long optimizerSteps, double[] scoreMoments, byte[] optimizer,
                        byte[] criticOptimizer) {

        /** A state without a separate critic. */
        public State(long updates, long optimizerSteps, double[] scoreMoments, byte[] optimizer) {
            this(updates, optimizerSteps, scoreMoments, optimizer, null);
        }
    }

    /** The current state. */
    public State state() {
        return new State(updates, optimizerSteps, scoreMoments.state(), optimizer.state(),
                criticOptimizer == null ? null : criticOptimizer.state());
    }

    /**
     * Restores a saved state (the policy's and the critic's weights are restored separately). A state without a
     * critic's optimiser (saved with {@code ppo.critic=shared}) leaves a separate critic's AdamW fresh; a critic's
     * optimiser in the state of a shared learner is ignored.
     */
    public void restore(State state) {
        this.updates = state.updates();
        this.optimizerSteps = state.optimizerSteps();
        this.scoreMoments = new RunningMoments(state.scoreMoments());
        optimizer.restore(state.optimizer(), policy.block());
        if (critic != null && state.criticOptimizer() != null) {
            criticOptimizer.restore(state.criticOptimizer(), critic.block());
        } else if (critic != null) {
            LOG.info("the restored state has no optimiser state for the separate critic: its AdamW starts fresh");
        } else if (state.criticOptimizer() != null) {
            LOG.warn("the restored state holds a separate critic's optimiser state, ignored: {} is shared",
                    PpoConfig.CRITIC);
        }
    }
}
