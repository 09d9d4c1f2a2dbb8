package io.streamrlhf.learner.ppo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Pair;
import io.streamrlhf.models.engine.NoGrad;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * AdamW (Loshchilov and Hutter 2019) with global gradient-norm clipping, whose moments can be saved
 * and restored.
 *
 * <p>Written here because DJL's {@code AdamW} keeps its moment estimates in private fields, and a
 * checkpoint must hold optimiser state for a restarted learner to continue exactly.
 *
 * <p>One step works on flat buffers: the gradients are concatenated into one vector, the moments
 * live in two flat vectors (each parameter's moments are views into them), so the clip and the
 * update are a dozen kernels over all N parameters instead of some fifteen per parameter (DJL's
 * native {@code adamUpdate} clones, clamps and updates each tensor on its own; profiling showed
 * about 560 small kernels and 5 ms of a PPO update on the demo policy). The arithmetic is DJL's
 * {@code adamUpdate} with {@code adamw=true}: {@code w -= lr·wd·w + lr·√(1−β2ᵗ)/(1−β1ᵗ)·m / (√v + ε)}.
 * Step counts that differ (after a critic warm-up the value head has moved more often than the
 * actor) make the bias correction a vector with one value per run of equal counts. Only while
 * some parameters must not move (the critic warm-up itself) is each trainable parameter updated on
 * its own with DJL's kernel, on views of the same flat buffers. The step runs without autograd
 * recording ({@link NoGrad}), on any thread.
 *
 * <p>The moments live in the manager of the parameters (the model's).
 */
public final class CheckpointableAdamW {

    private static final int FORMAT = 1;

    private final float beta1;
    private final float beta2;
    private final float epsilon;
    /** Per parameter, in layout order: {m, v}, views of {@link #flatMean} and {@link #flatVariance} once built. */
    private final Map<String, NDArray[]> moments = new LinkedHashMap<>();
    private final Map<String, Integer> counts = new HashMap<>();
    /** Names and shapes the flat buffers are laid out for (null before the first step or after a restore). */
    private List<String> layout;
    private NDArray flatMean;
    private NDArray flatVariance;
    private boolean fused = true;
    private long flatSteps;

    /** β1 0.9, β2 0.999, ε 1e-8 (PyTorch's defaults). */
    public CheckpointableAdamW() {
        this(0.9f, 0.999f, 1e-8f);
    }

    /** Explicit hyper-parameters. */
    public CheckpointableAdamW(float beta1, float beta2, float epsilon) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
    }

    /** Turns the flat all-parameter update off (tests compare it with the per-parameter one). */
    CheckpointableAdamW perParameter() {
        this.fused = false;
        return this;
    }

    /**
     * Clips all gradients of {@code block} to a global L2 norm of {@code maxGradNorm} (as PyTorch's
     * {@code clip_grad_norm_}: scaled by {@code maxGradNorm / (norm + 1e-6)} when the norm exceeds
     * it; {@code <= 0} means no clipping), applies one AdamW update to every parameter that has a
     * gradient and passes {@code trainable}, and zeroes all gradients (also of the parameters it
     * left alone).
     *
     * @param step        the step's manager; gradient handles and temporaries are attached to it
     * @param lr          learning rate of this step
     * @param weightDecay decoupled weight decay
     * @return the global gradient norm before clipping (0 when no parameter has a gradient)
     */
    public double step(Block block, NDManager step, float lr, float weightDecay, Predicate<String> trainable,
                       double maxGradNorm) {
        // An optimiser step is never part of a graph (PyTorch's optimisers run under no_grad).
        try (NoGrad ignored = NoGrad.enter()) {
            return stepWithoutRecording(block, step, lr, weightDecay, trainable, maxGradNorm);
        }
    }

    private double stepWithoutRecording(Block block, NDManager step, float lr, float weightDecay,
                                        Predicate<String> trainable, double maxGradNorm) {
        List<String> names = new ArrayList<>();
        List<NDArray> weights = new ArrayList<>();
        List<NDArray> grads = new ArrayList<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray weight = p.getValue().getArray();
            if (!p.getValue().requiresGradient() || !weight.hasGradient()) {
                continue;
            }
            NDArray grad = weight.getGradient();
            grad.attach(step);
            names.add(p.getKey());
            weights.add(weight);
            grads.add(grad);
        }
        if (names.isEmpty()) {
            return 0.0;
        }
        ensureLayout(names, weights);
        NDList flatGrads = new NDList(grads.size());
        for (NDArray g : grads) {
            flatGrads.add(g.reshape(-1));  // a view
        }
        NDArray g = NDArrays.concat(flatGrads);  // (N)
        double norm = Math.sqrt(g.square().sum().getFloat());  // one host read for all parameters
        if (maxGradNorm > 0 && norm > maxGradNorm) {
            g.muli((float) (maxGradNorm / (norm + 1e-6)));
        }

        boolean allTrainable = names.stream().allMatch(trainable);
        if (fused && allTrainable) {
            // Step counts differ after a critic warm-up (the value head has moved more often than
            // the actor): the bias correction is then a vector, one value per run of parameters
            // with the same count, and the rest stays flat.
            int[] t = new int[names.size()];
            for (int i = 0; i < t.length; i++) {
                t[i] = counts.merge(names.get(i), 1, Integer::sum);
            }
            NDArray correction = biasCorrection(step, lr, t, weights);
            flatSteps++;
            NDList flatWeights = new NDList(weights.size());
            for (NDArray w : weights) {
                flatWeights.add(attached(w.reshape(-1), step));
            }
            NDArray w = NDArrays.concat(flatWeights);  // (N), a copy
            flatMean.muli(beta1).addi(g.mul(1 - beta1));
            flatVariance.muli(beta2).addi(g.square().muli(1 - beta2));
            NDArray denominator = attached(flatVariance.sqrt(), step).addi(epsilon);  // (N)
            NDArray delta = attached(correction == null ? flatMean.mul(lrCorrected(lr, t[0]))
                    : flatMean.mul(correction), step).divi(denominator)
                    .addi(w.muli(lr * weightDecay));  // (N)
            long offset = 0;
            for (NDArray weight : weights) {
                long size = weight.size();
                weight.subi(delta.get(new NDIndex().addSliceDim(offset, offset + size)).reshape(weight.getShape()));
                offset += size;
            }
        } else {
            long offset = 0;
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i);
                NDArray weight = weights.get(i);
                long size = weight.size();
                if (trainable.test(name)) {
                    NDArray grad = g.get(new NDIndex().addSliceDim(offset, offset + size)).reshape(weight.getShape());
                    NDArray[] mv = moments.get(name);
                    int t = counts.merge(name, 1, Integer::sum);
                    // adamw=true: decoupled decay w -= lr·wd·w, then w -= lrCorrected·m / (sqrt(v) + ε).
                    weight.getNDArrayInternal().adamUpdate(new NDList(weight, grad, mv[0], mv[1]), new NDList(weight),
                            lr, lrCorrected(lr, t), weightDecay, 1f, -1f, beta1, beta2, epsilon, true, true);
                }
                offset += size;
            }
        }
        // PyTorch accumulates into .grad: the next backward must start from zero.
        for (int i = 0; i < grads.size(); i++) {
            zero(weights.get(i), grads.get(i));
        }
        return norm;
    }

    /**
     * The per-element bias-corrected learning rate when the step counts {@code t} differ, as runs
     * of equal values; null when all counts are equal (a scalar does).
     */
    private NDArray biasCorrection(NDManager step, float lr, int[] t, List<NDArray> weights) {
        boolean same = true;
        for (int count : t) {
            same &= count == t[0];
        }
        if (same) {
            return null;
        }
        NDList runs = new NDList();
        long runSize = 0;
        for (int i = 0; i < t.length; i++) {
            runSize += weights.get(i).size();
            if (i == t.length - 1 || t[i + 1] != t[i]) {
                runs.add(step.full(new Shape(runSize), lrCorrected(lr, t[i])));
                runSize = 0;
            }
        }
        return runs.size() == 1 ? runs.get(0) : attached(NDArrays.concat(runs), step);
    }

    private float lrCorrected(float lr, int t) {
        double coef1 = 1.0 - Math.pow(beta1, t);
        double coef2 = 1.0 - Math.pow(beta2, t);
        return (float) (lr * Math.sqrt(coef2) / coef1);
    }

    private static NDArray attached(NDArray array, NDManager step) {
        array.attach(step);
        return array;
    }

    private static void zero(NDArray weight, NDArray grad) {
        if (weight instanceof PtNDArray pt) {
            JniUtils.zeroGrad(pt);
        } else {
            grad.subi(grad);
        }
    }

    /**
     * Lays the moments out flat for these parameters, in this order, keeping the values of any
     * parameter that already has moments (from earlier steps or a restore).
     */
    private void ensureLayout(List<String> names, List<NDArray> weights) {
        if (names.equals(layout)) {
            return;
        }
        NDManager owner = weights.get(0).getManager();
        NDList means = new NDList(names.size());
        NDList variances = new NDList(names.size());
        for (int i = 0; i < names.size(); i++) {
            NDArray[] mv = moments.get(names.get(i));
            NDArray w = weights.get(i);
            means.add(mv != null ? mv[0].reshape(-1) : owner.zeros(new Shape(w.size())));
            variances.add(mv != null ? mv[1].reshape(-1) : owner.zeros(new Shape(w.size())));
        }
        NDArray newMean = NDArrays.concat(means);
        NDArray newVariance = NDArrays.concat(variances);
        newMean.attach(owner);
        newVariance.attach(owner);
        // The per-parameter arrays (views of the old buffers, or restored copies) are copied: free them.
        means.close();
        variances.close();
        for (NDArray[] mv : moments.values()) {
            mv[0].close();
            mv[1].close();
        }
        if (flatMean != null) {
            flatMean.close();
            flatVariance.close();
        }
        Map<String, NDArray[]> kept = new LinkedHashMap<>();
        long offset = 0;
        for (int i = 0; i < names.size(); i++) {
            Shape shape = weights.get(i).getShape();
            NDIndex slice = new NDIndex().addSliceDim(offset, offset + shape.size());
            kept.put(names.get(i), new NDArray[] {newMean.get(slice).reshape(shape),
                newVariance.get(slice).reshape(shape)});
            offset += shape.size();
        }
        moments.clear();
        moments.putAll(kept);
        counts.keySet().retainAll(kept.keySet());
        flatMean = newMean;
        flatVariance = newVariance;
        layout = List.copyOf(names);
    }

    /** Steps taken on the flat path (tests check which path ran). */
    long flatSteps() {
        return flatSteps;
    }

    /** Parameters with state. */
    public int size() {
        return moments.size();
    }

    /** The moments and step counts, as bytes (DJL's NDList encoding for the arrays). */
    public byte[] state() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(FORMAT);
            out.writeInt(moments.size());
            NDList arrays = new NDList();
            for (Map.Entry<String, NDArray[]> e : moments.entrySet()) {
                out.writeUTF(e.getKey());
                // 0 for parameters that have not moved yet (the actor during critic warm-up): zero moments.
                out.writeInt(counts.getOrDefault(e.getKey(), 0));
                arrays.add(e.getValue()[0]);
                arrays.add(e.getValue()[1]);
            }
            byte[] encoded = arrays.encode();
            out.writeInt(encoded.length);
            out.write(encoded);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * Restores {@link #state()} output into this optimiser, the moments placed in the managers of
     * {@code block}'s parameters.
     *
     * @throws IllegalArgumentException naming the parameter when the state does not fit the block
     */
    public void restore(byte[] state, Block block) {
        Map<String, Parameter> params = new HashMap<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            params.put(p.getKey(), p.getValue());
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(state))) {
            int format = in.readInt();
            if (format != FORMAT) {
                throw new IllegalArgumentException("optimiser state format " + format + " is not " + FORMAT);
            }
            int n = in.readInt();
            String[] names = new String[n];
            int[] steps = new int[n];
            for (int i = 0; i < n; i++) {
                names[i] = in.readUTF();
                steps[i] = in.readInt();
            }
            byte[] encoded = new byte[in.readInt()];
            in.readFully(encoded);
            moments.values().forEach(mv -> {
                mv[0].close();
                mv[1].close();
            });
            moments.clear();
            counts.clear();
            if (flatMean != null) {
                flatMean.close();
                flatVariance.close();
                flatMean = null;
                flatVariance = null;
            }
            layout = null;  // the next step lays the restored moments out flat
            if (n == 0) {
                return;
            }
            // All parameters of a model share its manager; the moments join them there.
            NDManager owner = block.getParameters().get(0).getValue().getArray().getManager();
            NDList decoded = NDList.decode(owner, encoded);
            for (int i = 0; i < n; i++) {
                Parameter p = params.get(names[i]);
                NDArray m = decoded.get(2 * i);
                NDArray v = decoded.get(2 * i + 1);
                if (p == null || !m.getShape().equals(p.getArray().getShape())) {
                    decoded.close();
                    throw new IllegalArgumentException(p == null
                            ? "optimiser state holds parameter '" + names[i] + "' that the model does not have"
                            : "optimiser state of '" + names[i] + "' has shape " + m.getShape()
                                    + " but the parameter has " + p.getArray().getShape());
                }
                moments.put(names[i], new NDArray[] {m, v});
                counts.put(names[i], steps[i]);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("optimiser state is truncated or corrupt: " + e.getMessage(), e);
        }
    }
}
