package io.streamrlhf.models.torchscript;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import io.streamrlhf.models.engine.ModelRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * One loaded TorchScript file: the DJL {@link Model} that owns its native memory and the
 * {@code PtSymbolBlock} it holds. Shared by the policy and reward adapters.
 *
 * <p>The file is always loaded with {@code trainParam=true}: only then does DJL expose the
 * module's parameters as trainable arrays that can also be overwritten in place (hot swap, the
 * reference copy). Whether the model trains is then decided with {@link #freeze(boolean)}.
 */
final class TorchScriptModule implements AutoCloseable {

    private final Path file;
    private final Model model;
    private final Block block;

    private TorchScriptModule(Path file, Model model) {
        this.file = file;
        this.model = model;
        this.block = model.getBlock();
    }

    /** Loads {@code file} (a {@code .pt} TorchScript archive) onto {@code device}. */
    static TorchScriptModule load(Path file, Device device) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("TorchScript file " + file + " does not exist or is not a file");
        }
        ModelRuntime.init();
        Path abs = file.toAbsolutePath();
        String name = abs.getFileName().toString();
        String prefix = name.endsWith(".pt") ? name.substring(0, name.length() - 3) : name;
        Model model = Model.newInstance(prefix, device, ModelRuntime.ENGINE);
        try {
            model.load(abs.getParent(), prefix, Map.of("trainParam", "true"));
        } catch (IOException | MalformedModelException | RuntimeException e) {
            model.close();
            throw new IllegalArgumentException("cannot load TorchScript file " + file + ": " + e.getMessage(), e);
        }
        return new TorchScriptModule(abs, model);
    }

    Path file() {
        return file;
    }

    Block block() {
        return block;
    }

    NDManager manager() {
        return model.getNDManager();
    }

    void freeze(boolean frozen) {
        block.freezeParameters(frozen);
    }

    /**
     * Runs the module on (tokens int64, attention_mask float32) and returns its two outputs, in the
     * manager of {@code tokens}.
     *
     * @param what names the model in errors ("policy", "reward model")
     */
    NDList forward(NDArray tokens, NDArray attentionMask, boolean training, String what) {
        if (tokens.getShape().dimension() != 2) {
            throw new IllegalArgumentException("TorchScript " + what + " " + file + ": tokens must be (B, T), got "
                    + tokens.getShape());
        }
        NDManager m = tokens.getManager();
        NDArray ids = tokens.toType(DataType.INT64, false);  // (B, T)
        NDArray mask = attentionMask == null
                ? m.ones(tokens.getShape(), DataType.FLOAT32)
                : attentionMask.toType(DataType.FLOAT32, false);  // (B, T)
        NDList out = block.forward(new ParameterStore(m, false), new NDList(ids, mask), training);
        if (out.size() != 2) {
            throw new IllegalStateException("TorchScript " + what + " " + file + " returned " + out.size()
                    + " outputs; the contract is a tuple of two tensors");
        }
        for (NDArray a : out) {
            a.attach(m);
        }
        return out;
    }

    @Override
    public void close() {
        model.close();
    }
}
