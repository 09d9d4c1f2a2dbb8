package io.streamrlhf.models.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/*
 * CONTRACT: how weights travel. encode(block) is what Checkpoint.weights holds; copyInto(block, bytes)
 * is the hot swap every model type (ours and TorchScript adapters) uses.
 */

/**
 * Encodes a block's parameters as named arrays (DJL's {@link NDList#encode()} format, one array
 * per parameter, named by the parameter's path in the block) and copies such weights into a
 * running block in place.
 *
 * <p>In-place copy writes into the existing native tensors ({@link NDArray#set(java.nio.Buffer)}),
 * so a hot swap allocates nothing that outlives the call: no parameter array is replaced, and
 * optimiser or gradient bookkeeping keyed on those arrays stays valid.
 */
public final class ModelWeights {

    private ModelWeights() {
    }

    /** The block's parameters, encoded; the block must be initialised. */
    public static byte[] encode(Block block) {
        NDList list = new NDList();
        for (Pair<String, Parameter> p : block.getParameters()) {
            Parameter param = p.getValue();
            if (!param.isInitialized()) {
                throw new IllegalStateException("encode: parameter " + p.getKey() + " is not initialised");
            }
            NDArray array = param.getArray();
            array.setName(p.getKey());
            list.add(array);
        }
        return list.encode();
    }

    /**
     * Copies encoded weights into {@code block}'s existing parameter arrays. Every parameter must
     * be present with the same shape and type; extra or missing names are refused with their names.
     */
    public static void copyInto(Block block, byte[] weights) {
        NDManager anyManager = firstArray(block).getManager();
        try (NDManager temp = anyManager.newSubManager()) {
            NDList decoded = NDList.decode(temp, weights);
            Map<String, NDArray> byName = new HashMap<>();
            for (NDArray a : decoded) {
                if (a.getName() == null) {
                    throw new CheckpointException("copyInto: weights hold an unnamed array; expected named parameters");
                }
                byName.put(a.getName(), a);
            }
            copy(block, byName);
        }
    }

    /** Copies the parameters of {@code source} into {@code target} in place (same architecture). */
    public static void copy(Block source, Block target) {
        Map<String, NDArray> byName = new HashMap<>();
        for (Pair<String, Parameter> p : source.getParameters()) {
            byName.put(p.getKey(), p.getValue().getArray());
        }
        copy(target, byName);
    }

    private static void copy(Block target, Map<String, NDArray> byName) {
        // Check everything first so that a refused copy leaves the running model untouched.
        Set<String> used = new HashSet<>();
        for (Pair<String, Parameter> p : target.getParameters()) {
            String name = p.getKey();
            NDArray src = byName.get(name);
            if (src == null) {
                throw new CheckpointException("weights lack parameter '" + name + "'");
            }
            NDArray dst = p.getValue().getArray();
            if (!dst.getShape().equals(src.getShape()) || dst.getDataType() != src.getDataType()) {
                throw new CheckpointException("parameter '" + name + "': weights have " + src.getDataType()
                        + src.getShape() + " but the model has " + dst.getDataType() + dst.getShape());
            }
            used.add(name);
        }
        if (used.size() != byName.size()) {
            Set<String> extra = new HashSet<>(byName.keySet());
            extra.removeAll(used);
            throw new CheckpointException("weights hold parameters the model does not have: " + extra);
        }
        for (Pair<String, Parameter> p : target.getParameters()) {
            // Through a Java buffer: writes into the parameter's own storage, bypassing autograd (a
            // leaf that requires grad may not be changed by a recorded in-place op).
            p.getValue().getArray().set(byName.get(p.getKey()).toByteBuffer());
        }
    }

    private static NDArray firstArray(Block block) {
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (p.getValue().isInitialized()) {
                return p.getValue().getArray();
            }
        }
        throw new IllegalStateException("block has no initialised parameters");
    }
}
