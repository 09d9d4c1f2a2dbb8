package io.streamrlhf.models.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.streamrlhf.models.hf.safetensors.SafetensorsFile;
import io.streamrlhf.models.hf.safetensors.SafetensorsWeights;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * A block's parameters by checkpoint tensor name, with the shape each must have. Loading is a lookup: every
 * stored tensor (after the architecture's name normalisation, less the buffers it skips) must name a parameter
 * of the same shape, and every parameter must be stored. Parameters are created without a shape and receive
 * their loaded array ({@link Parameter#setArray}), so loading allocates each weight once.
 */
public final class NamedParameters {

    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Shape> shapes = new LinkedHashMap<>();

    /** Declares a parameter named {@code name} (the checkpoint's tensor name) of {@code shape}. */
    public Parameter add(String name, Parameter.Type type, Shape shape) {
        if (parameters.containsKey(name)) {
            throw new IllegalArgumentException("parameter " + name + " declared twice");
        }
        Parameter p = Parameter.builder().setName(name).setType(type).build();
        parameters.put(name, p);
        shapes.put(name, shape);
        return p;
    }

    /** The parameters in declaration order, by checkpoint name. */
    public Map<String, Parameter> byName() {
        return Collections.unmodifiableMap(parameters);
    }

    /** The shape {@code name} must have. */
    public Shape shape(String name) {
        return shapes.get(name);
    }

    /**
     * Loads every parameter from {@code weights} into {@code manager}, float32.
     *
     * @param normalise maps a stored name to this block's name (e.g. GPT-2's optional {@code transformer.}
     *                  prefix)
     * @param skip      stored names that are buffers or duplicates, not parameters (tested after normalising)
     * @throws HfFormatException naming the file and tensor for an unexpected, missing or wrongly shaped tensor;
     *                           nothing is loaded then
     */
    public void load(SafetensorsWeights weights, NDManager manager, UnaryOperator<String> normalise,
                     Predicate<String> skip) {
        Map<String, String> storedName = new LinkedHashMap<>();
        for (String stored : weights.names()) {
            String name = normalise.apply(stored);
            if (skip.test(name)) {
                continue;
            }
            if (!parameters.containsKey(name)) {
                throw new HfFormatException(weights.fileOf(stored), "unexpected tensor " + stored
                        + ": the model has no parameter of that name");
            }
            String previous = storedName.put(name, stored);
            if (previous != null) {
                throw new HfFormatException(weights.source(), "tensors " + previous + " and " + stored
                        + " both name parameter " + name);
            }
            SafetensorsFile.TensorInfo info = weights.info(stored);
            if (!info.shape().equals(shapes.get(name))) {
                throw new HfFormatException(weights.fileOf(stored), "tensor " + stored + " has shape "
                        + info.shape() + " but the model expects " + shapes.get(name));
            }
        }
        List<String> missing = new ArrayList<>(new TreeSet<>(parameters.keySet()));
        missing.removeAll(storedName.keySet());
        if (!missing.isEmpty()) {
            throw new HfFormatException(weights.source(), "missing tensor " + missing.get(0)
                    + (missing.size() > 1 ? " (and " + (missing.size() - 1) + " more: " + missing + ")" : ""));
        }
        for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
            NDArray array = weights.load(manager, storedName.get(e.getKey()));
            e.getValue().setArray(array);
        }
    }
}
