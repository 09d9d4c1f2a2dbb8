package io.streamrlhf.learner.ppo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * AdamW (Loshchilov and Hutter 2019) whose moments can be saved and restored.
 *
 * <p>Written here because DJL's {@code AdamW} keeps its moment estimates in private fields, and a
 * checkpoint must hold optimiser state for a restarted learner to continue exactly. The update
 * itself is DJL's fused native one ({@code NDArrayEx.adamUpdate} with {@code adamw=true}, the
 * call DJL's own optimiser makes), with the moments owned by this class.
 *
 * <p>The moments live in the manager of each parameter (the model's), one pair per parameter.
 */
public final class CheckpointableAdamW {

    private static final int FORMAT = 1;

    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private final Map<String, NDArray[]> moments = new HashMap<>();
    private final Map<String, Integer> counts = new HashMap<>();

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

    /**
     * Applies one update to every parameter of {@code block} that has a gradient and passes
     * {@code trainable}, and zeroes all gradients (also of the parameters it left alone).
     *
     * @param step        the step's manager; fetched gradient handles are attached to it
     * @param lr          learning rate of this step
     * @param weightDecay decoupled weight decay
     */
    public void step(Block block, NDManager step, float lr, float weightDecay, Predicate<String> trainable) {
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray weight = p.getValue().getArray();
            if (!p.getValue().requiresGradient() || !weight.hasGradient()) {
                continue;
            }
            NDArray grad = weight.getGradient();
            grad.attach(step);
            String name = p.getKey();
            if (!trainable.test(name)) {
                grad.subi(grad);  // PyTorch accumulates into .grad; clear what this step does not use
                continue;
            }
            NDArray[] mv = moments.computeIfAbsent(name, k -> new NDArray[] {weight.zerosLike(), weight.zerosLike()});
            int t = counts.merge(name, 1, Integer::sum);
            double coef1 = 1.0 - Math.pow(beta1, t);
            double coef2 = 1.0 - Math.pow(beta2, t);
            float lrCorrected = (float) (lr * Math.sqrt(coef2) / coef1);
            // adamw=true: decoupled decay w -= lr·wd·w, then w -= lrCorrected·m / (sqrt(v) + ε); zeroes the gradient.
            weight.getNDArrayInternal().adamUpdate(new NDList(weight, grad, mv[0], mv[1]), new NDList(weight), lr,
                    lrCorrected, weightDecay, 1f, Float.MAX_VALUE, beta1, beta2, epsilon, true, true);
        }
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
                out.writeInt(counts.get(e.getKey()));
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
