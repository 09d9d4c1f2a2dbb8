package io.streamrlhf.models.reward;

/**
 * A reward model whose training forwards can pass each layer's update of the residual stream through dropout: what
 * the reward-model trainer needs for SimCSE's two dropout views of one batch (Secrets of RLHF Part II §4.1). At rate
 * 0 (the default) a training forward equals an inference forward.
 */
public interface ResidualDropout {

    /** The residual dropout rate p (0: off). */
    float residualDropout();

    /**
     * Sets the residual dropout rate p, applied in training forwards only. Set it between forwards.
     *
     * @throws IllegalArgumentException when p is not in [0, 1)
     */
    void setResidualDropout(float rate);
}
