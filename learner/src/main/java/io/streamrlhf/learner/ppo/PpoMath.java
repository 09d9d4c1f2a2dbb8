package io.streamrlhf.learner.ppo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import io.streamrlhf.learner.ppo.PpoConfig.Estimator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The formulas {@link PpoUpdate} applies, each a pure function on its own so that tests check it against
 * hand-computed values: the truncated importance weight, KL-shaped rewards, GAE, group advantages (GRPO, RLOO),
 * whitening, explained variance, the clipped policy and value losses, entropy, the k3 KL estimator, and the ratio
 * diagnostics. Names follow the math (cleanrl's: {@code lastGaeLam}, {@code pgLoss1}, {@code pgLoss2}).
 */
final class PpoMath {

    private static final double EPS = 1e-8;

    private PpoMath() {
    }

    /** Truncated importance weight min(exp(log π_prox − log π_behaviour), c). */
    static double truncatedWeight(double proxLogp, double behaviourLogp, double c) {
        return Math.min(Math.exp(proxLogp - behaviourLogp), c);
    }

    /**
     * Per-token rewards of one response: {@code −β·(logp_t − refLogp_t)}, plus {@code score} at the
     * last token.
     */
    static double[] shapeRewards(double[] logp, double[] refLogp, double beta, double score) {
        double[] rewards = new double[logp.length];
        for (int t = 0; t < logp.length; t++) {
            rewards[t] = -beta * (logp[t] - refLogp[t]);
        }
        rewards[rewards.length - 1] += score;
        return rewards;
    }

    /**
     * GAE over one response (cleanrl's loop): {@code delta = r_t + γ·V_{t+1} − V_t},
     * {@code A_t = delta + γλ·A_{t+1}}, the value after the last token 0 (the episode ends);
     * {@code returns = advantages + values}.
     */
    static void gae(double[] rewards, double[] values, double gamma, double lambda, double[] advantages,
                    double[] returns) {
        double lastGaeLam = 0;
        for (int t = rewards.length - 1; t >= 0; t--) {
            double nextValues = t == rewards.length - 1 ? 0.0 : values[t + 1];
            double delta = rewards[t] + gamma * nextValues - values[t];
            lastGaeLam = delta + gamma * lambda * lastGaeLam;
            advantages[t] = lastGaeLam;
        }
        for (int t = 0; t < rewards.length; t++) {
            returns[t] = advantages[t] + values[t];
        }
    }

    /**
     * Critic-free advantages of each sample from the scores of its prompt's group.
     * GRPO: {@code (s − mean_g) / (std_g + 1e-8)}, std with n − 1; RLOO: {@code s − mean of the
     * group's other scores}. A sample alone in its group gets 0.
     */
    static double[] groupAdvantages(Estimator estimator, double[] scores, String[] groups) {
        Map<String, List<Integer>> members = new HashMap<>();
        for (int i = 0; i < groups.length; i++) {
            members.computeIfAbsent(groups[i], k -> new ArrayList<>()).add(i);
        }
        double[] adv = new double[scores.length];
        for (List<Integer> group : members.values()) {
            int n = group.size();
            if (n < 2) {
                continue;
            }
            double sum = 0;
            for (int i : group) {
                sum += scores[i];
            }
            double mean = sum / n;
            double var = 0;
            for (int i : group) {
                var += (scores[i] - mean) * (scores[i] - mean) / (n - 1);
            }
            double std = Math.sqrt(var);
            for (int i : group) {
                adv[i] = switch (estimator) {
                    case GRPO -> (scores[i] - mean) / (std + EPS);
                    case RLOO -> scores[i] - (sum - scores[i]) / (n - 1);
                    case GAE -> throw new IllegalArgumentException("GAE is not a group estimator");
                };
            }
        }
        return adv;
    }

    /** Whitens the masked entries in place: zero mean, unit std (n − 1, as torch.std). */
    static void whiten(float[] values, float[] mask) {
        double n = 0;
        double sum = 0;
        for (int k = 0; k < values.length; k++) {
            if (mask[k] > 0) {
                n++;
                sum += values[k];
            }
        }
        if (n < 2) {
            return;
        }
        double mean = sum / n;
        double var = 0;
        for (int k = 0; k < values.length; k++) {
            if (mask[k] > 0) {
                var += (values[k] - mean) * (values[k] - mean);
            }
        }
        double std = Math.sqrt(var / (n - 1));
        for (int k = 0; k < values.length; k++) {
            if (mask[k] > 0) {
                values[k] = (float) ((values[k] - mean) / (std + EPS));
            }
        }
    }

    /** 1 − Var(returns − values) / Var(returns) over the masked entries (NaN when returns are constant). */
    static double explainedVariance(float[] values, float[] returns, float[] mask) {
        double n = 0;
        double sr = 0;
        double sd = 0;
        for (int k = 0; k < mask.length; k++) {
            if (mask[k] > 0) {
                n++;
                sr += returns[k];
                sd += returns[k] - values[k];
            }
        }
        double mr = sr / n;
        double md = sd / n;
        double vr = 0;
        double vd = 0;
        for (int k = 0; k < mask.length; k++) {
            if (mask[k] > 0) {
                vr += (returns[k] - mr) * (returns[k] - mr);
                double d = returns[k] - values[k] - md;
                vd += d * d;
            }
        }
        return vr == 0 ? Double.NaN : 1 - vd / vr;
    }

    /**
     * Clipped policy loss: mean over masked tokens of {@code w·max(pgLoss1, pgLoss2)},
     * {@code pgLoss1 = −A·ratio}, {@code pgLoss2 = −A·clip(ratio, 1 − ε, 1 + ε)}.
     */
    static NDArray policyLoss(NDArray advantages, NDArray ratio, NDArray isWeights, NDArray mask, float maskSum,
                              double clip) {
        NDArray pgLoss1 = advantages.neg().mul(ratio);  // (B, F)
        NDArray pgLoss2 = advantages.neg().mul(ratio.clip(1 - clip, 1 + clip));  // (B, F)
        return NDArrays.maximum(pgLoss1, pgLoss2).mul(isWeights).mul(mask).sum().div(maskSum);
    }

    /**
     * Clipped value loss {@code 0.5·mean(max(vf1, vf2))}, {@code vf1 = (V − R)²},
     * {@code vf2 = (V_old + clip(V − V_old, −c, c) − R)²}; {@code c = 0} means unclipped.
     */
    static NDArray valueLoss(NDArray newValues, NDArray oldValues, NDArray returns, NDArray mask, float maskSum,
                             double valueClip) {
        NDArray vf1 = newValues.sub(returns).square();  // (B, F)
        NDArray vf = vf1;
        if (valueClip > 0) {
            NDArray clipped = oldValues.add(newValues.sub(oldValues).clip(-valueClip, valueClip));  // (B, F)
            vf = NDArrays.maximum(vf1, clipped.sub(returns).square());
        }
        return vf.mul(mask).sum().div(maskSum).mul(0.5f);
    }

    /** Mean entropy −Σ_v p log p of the masked positions. */
    static NDArray entropy(NDArray logpAll, NDArray mask, float maskSum) {
        NDArray perToken = logpAll.exp().mul(logpAll).sum(new int[] {-1}).neg();  // (B, F)
        return perToken.mul(mask).sum().div(maskSum);
    }

    /** k3 estimator of KL(π ‖ π_ref) per token, masked mean: {@code exp(ref − logp) − (ref − logp) − 1}. */
    static NDArray klK3(NDArray logp, NDArray refLogp, NDArray mask, float maskSum) {
        NDArray logR = refLogp.sub(logp);  // (B, F)
        return logR.exp().sub(logR).sub(1f).mul(mask).sum().div(maskSum);
    }

    /** approx-KL (k3 and the old k1), clip fraction, mean ratio and its largest deviation from 1, masked. */
    static void diagnostics(float[] logratio, float[] mask, float maskSum, double clipRange,
                            Map<String, Double> out) {
        double approxKl = 0;
        double oldApproxKl = 0;
        double clipped = 0;
        double ratioSum = 0;
        double maxDev = 0;
        for (int k = 0; k < logratio.length; k++) {
            if (mask[k] == 0) {
                continue;
            }
            double logR = logratio[k];
            double ratio = Math.exp(logR);
            double dev = Math.abs(ratio - 1);
            approxKl += mask[k] * ((ratio - 1) - logR);
            oldApproxKl -= mask[k] * logR;
            clipped += dev > clipRange ? 1 : 0;
            ratioSum += mask[k] * ratio;
            maxDev = Math.max(maxDev, dev * mask[k]);
        }
        out.put("losses/approx_kl", approxKl / maskSum);
        out.put("losses/old_approx_kl", oldApproxKl / maskSum);
        out.put("losses/clipfrac", clipped / maskSum);
        out.put("ppo/ratio_mean", ratioSum / maskSum);
        out.put("ppo/ratio_max_dev", maxDev);
    }
}
