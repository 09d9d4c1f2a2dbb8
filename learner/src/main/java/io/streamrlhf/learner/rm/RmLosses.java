package io.streamrlhf.learner.rm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * The reward-model losses of Secrets of RLHF Part II, on DJL arrays, differentiable.
 *
 * <table>
 *   <caption>Dimension letters</caption>
 *   <tr><td>B</td><td>pairs</td></tr>
 *   <tr><td>N</td><td>sequences (responses)</td></tr>
 *   <tr><td>D</td><td>width of the pooled representation</td></tr>
 *   <tr><td>K</td><td>prompts of a MetaRM batch</td></tr>
 *   <tr><td>G</td><td>responses per prompt</td></tr>
 * </table>
 */
public final class RmLosses {

    private RmLosses() {
    }

    /** log σ(x), computed as {@code min(x, 0) − log(1 + e^{−|x|})} so large |x| neither overflows nor underflows. */
    public static NDArray logSigmoid(NDArray x) {
        return x.minimum(0).sub(x.abs().neg().exp().add(1).log());
    }

    /**
     * Per-pair preference loss with an optional margin and label smoothing:
     * {@code −(1−α)·log σ(Δ − m) − α·log σ(m − Δ)}, with Δ = r_c − r_r. With m = 0 and α = 0 this is the
     * Bradley–Terry loss; m = μ̂ is the adaptive margin (Part II eq. for L_margin); α &gt; 0 is label
     * smoothing (Part II §3.2.2).
     *
     * @param diff   (B) r(chosen) − r(rejected)
     * @param margin (B) margins, or {@code null} for none
     * @param alpha  label-smoothing α in [0, 0.5)
     * @return (B) losses
     */
    public static NDArray preferenceLoss(NDArray diff, NDArray margin, double alpha) {
        NDArray shifted = margin == null ? diff : diff.sub(margin);  // (B)
        NDArray loss = logSigmoid(shifted).neg();  // (B)
        if (alpha > 0) {
            loss = loss.mul((float) (1 - alpha)).add(logSigmoid(shifted.neg()).neg().mul((float) alpha));  // (B)
        }
        return loss;
    }

    /**
     * SimCSE's contrastive loss (InfoNCE over cosine similarity): row i of {@code view1} should be
     * closer to row i of {@code view2} (its other dropout view) than to any other row:
     * {@code −(1/N)·Σ_i log softmax_j(cos(z1_i, z2_j) / τ)_i}.
     *
     * @param view1       (N, D) first view
     * @param view2       (N, D) second view
     * @param temperature τ &gt; 0
     * @return () the mean loss
     */
    public static NDArray simCse(NDArray view1, NDArray view2, double temperature) {
        NDArray z1 = unit(view1);  // (N, D)
        NDArray z2 = unit(view2);  // (N, D)
        NDArray logits = z1.matMul(z2.transpose()).div((float) temperature);  // (N, N)
        long n = logits.getShape().get(0);
        NDArray eye = logits.getManager().eye((int) n).toType(DataType.FLOAT32, false);  // (N, N)
        return logits.logSoftmax(1).mul(eye).sum(new int[] {1}).neg().mean();  // ()
    }

    /**
     * MetaRM's difference objective on the shifted distribution (Part II §4.2), to be maximised:
     * the mean over prompts and ordered pairs i ≠ j of its G responses of {@code σ(|r_i − r_j|)}. It grows
     * as the model tells the policy's current responses apart.
     *
     * @param scores (K, G) rewards of G responses to each of K prompts, G ≥ 2
     * @return () the objective J
     */
    public static NDArray metaDifference(NDArray scores) {
        long k = scores.getShape().get(0);
        long g = scores.getShape().get(1);
        if (g < 2) {
            throw new IllegalArgumentException("metaDifference: need at least 2 responses per prompt, got " + g);
        }
        NDArray diff = scores.expandDims(2).sub(scores.expandDims(1));  // (K, G, G)
        NDArray sig = diff.abs().neg().exp().add(1f).pow(-1f);  // (K, G, G) σ(|Δ|)
        // The diagonal holds σ(0) = 0.5 for each of the K·G responses; take it out of the mean.
        return sig.sum().sub((float) (0.5 * k * g)).div((float) (k * g * (g - 1)));  // ()
    }

    /** Rows scaled to unit L2 norm (with a small floor so a zero row stays finite). */
    static NDArray unit(NDArray x) {
        NDArray norm = x.square().sum(new int[] {1}, true).add(1e-12).sqrt();  // (N, 1)
        return x.div(norm);  // (N, D)
    }
}
