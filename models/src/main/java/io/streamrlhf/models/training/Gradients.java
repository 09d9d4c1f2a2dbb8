package io.streamrlhf.models.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;

/**
 * Gradient bookkeeping for a training step over one block's parameters, with the native-memory
 * discipline DJL needs: every gradient handle fetched here is attached to the step's manager, so
 * closing the step frees it (a fetched handle otherwise lives in the model's manager for good).
 *
 * <p>Typical step:
 * <pre>{@code
 * try (NDManager step = model.manager().newSubManager();
 *      GradientCollector gc = engine.newGradientCollector()) {
 *     NDArray loss = ...;                         // forward with training=true
 *     gc.backward(loss);
 *     Gradients.clipGlobalNorm(block, step, 1.0); // optional
 *     Gradients.update(block, optimizer, step);   // optimiser step (also zeroes the gradients)
 * }
 * }</pre>
 */
public final class Gradients {

    private Gradients() {
    }

    /**
     * Scales all gradients so that their global L2 norm is at most {@code maxNorm} (as PyTorch's
     * {@code clip_grad_norm_}).
     *
     * @return the norm before clipping
     */
    public static double clipGlobalNorm(Block block, NDManager step, double maxNorm) {
        List<NDArray> grads = new ArrayList<>();
        NDList squares = new NDList();
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray g = gradient(p.getValue(), step);
            if (g != null) {
                grads.add(g);
                squares.add(g.square().sum());  // ()
            }
        }
        if (grads.isEmpty()) {
            return 0;
        }
        // One host read for the whole norm, not one per parameter.
        double norm = Math.sqrt(NDArrays.stack(squares).sum().getFloat());
        double scale = maxNorm / (norm + 1e-6);
        if (scale < 1.0) {
            for (NDArray g : grads) {
                g.muli(scale);
            }
        }
        return norm;
    }

    /**
     * Applies the optimiser to every trainable parameter. DJL's PyTorch optimiser kernels (Adam,
     * AdamW, SGD) zero each gradient after using it, so the next backward starts from zero.
     */
    public static void update(Block block, Optimizer optimizer, NDManager step) {
        for (Pair<String, Parameter> p : block.getParameters()) {
            Parameter param = p.getValue();
            NDArray g = gradient(param, step);
            if (g != null) {
                optimizer.update(param.getId(), param.getArray(), g);
            }
        }
    }

    /** Zeroes every parameter's gradient. */
    public static void zero(Block block, NDManager step) {
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray g = gradient(p.getValue(), step);
            if (g != null) {
                g.subi(g);
            }
        }
    }

    private static NDArray gradient(Parameter param, NDManager step) {
        if (!param.requiresGradient() || !param.getArray().hasGradient()) {
            return null;
        }
        NDArray g;
        try {
            g = param.getArray().getGradient();
        } catch (IllegalStateException e) {
            return null;  // the parameter took no part in this step's loss: no gradient yet
        }
        g.attach(step);
        return g;
    }
}
