package io.streamrlhf.models.hf;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.ModelKind;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.safetensors.SafetensorsDtype;
import io.streamrlhf.models.hf.safetensors.SafetensorsFile;
import io.streamrlhf.models.hf.safetensors.SafetensorsWeights;
import io.streamrlhf.models.hf.safetensors.SafetensorsWriter;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.torchscript.TorchScriptPolicy;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Writes an {@value HfPolicy#ARCHITECTURE} policy checkpoint as a Hugging Face model folder that
 * {@code from_pretrained}, vLLM or TGI load:
 * <pre>
 *   config.json          the folder's own, with torch_dtype (or dtype) set to the exported dtype
 *   model.safetensors    every weight under its own tensor name, without the value head (v_head.*)
 *   tokenizer.json, tokenizer_config.json, generation_config.json, ...   every file the checkpoint carries, as is
 * </pre>
 * Tensors are copied from the checkpoint's safetensors bytes one at a time, byte for byte where the dtype stays
 * (float32 checkpoints exported as F32) and converted otherwise, so no model is built and an export holds the
 * checkpoint plus one tensor. The folder is written into a hidden temporary sibling and renamed into place: a reader
 * never sees half of it.
 *
 * <p>Only Hugging Face policies are exported: the project's own {@value TransformerPolicy#ARCHITECTURE} policies
 * (the synthetic world's) have no Hugging Face architecture to load them as.
 */
public final class HfExport {

    /** The value of {@code torch_dtype} per exported dtype, as PyTorch names them. */
    private static final Map<SafetensorsDtype, String> TORCH_DTYPE = Map.of(SafetensorsDtype.F32, "float32",
            SafetensorsDtype.BF16, "bfloat16", SafetensorsDtype.F16, "float16");
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What an export wrote.
     *
     * @param dir          the folder
     * @param architecture the {@code architectures[0]} of its config, e.g. {@code Qwen2ForCausalLM}
     * @param files        the file names in it, sorted
     * @param tensors      tensors in {@code model.safetensors}
     * @param dtype        their dtype
     * @param weightBytes  the size of {@code model.safetensors}
     */
    public record Result(Path dir, String architecture, List<String> files, int tensors, SafetensorsDtype dtype,
                         long weightBytes) {
    }

    private HfExport() {
    }

    /**
     * Checks that {@code checkpoint} can be exported: a policy of architecture {@value HfPolicy#ARCHITECTURE} carrying
     * a supported {@code config.json}, whose weights (less the value head) are exactly the tensors that config's
     * model has, in its shapes.
     *
     * @return the checkpoint's Hugging Face config
     * @throws CheckpointException saying what is refused and, for another architecture, what can be exported
     */
    public static HfModelConfig check(Checkpoint checkpoint) {
        if (checkpoint.kind() != ModelKind.POLICY) {
            throw new CheckpointException("checkpoint holds a " + checkpoint.kind() + ", not a POLICY; only policies"
                    + " are exported");
        }
        if (!HfPolicy.ARCHITECTURE.equals(checkpoint.architecture())) {
            String what = switch (checkpoint.architecture()) {
                case TransformerPolicy.ARCHITECTURE -> "the project's own '" + TransformerPolicy.ARCHITECTURE
                        + "' architecture (the synthetic-world policy), which is not a Hugging Face model";
                case TorchScriptPolicy.ARCHITECTURE -> "architecture '" + TorchScriptPolicy.ARCHITECTURE
                        + "' (a TorchScript adapter), which is not a Hugging Face model";
                default -> "architecture '" + checkpoint.architecture() + "', which is not a Hugging Face model";
            };
            throw new CheckpointException("checkpoint is a policy of " + what + "; only policies trained from a "
                    + "Hugging Face folder (architecture '" + HfPolicy.ARCHITECTURE + "': GPT-2, Llama, Qwen2 or "
                    + "Mistral, e.g. 'rlhf learn --init-checkpoint' given a model folder) can be exported as one");
        }
        HfModelConfig config = HfPolicy.configOf(checkpoint, 0);
        SafetensorsWeights weights = lmWeights(checkpoint);
        NamedParameters expected = HfCausalLm.build(config).namedParameters();
        for (String name : weights.names()) {
            Shape shape = expected.shape(name);
            if (shape == null) {
                throw new CheckpointException("checkpoint weights hold tensor " + name + ", which a "
                        + config.architecture() + " of its config.json does not have");
            }
            if (!weights.info(name).shape().equals(shape)) {
                throw new CheckpointException("checkpoint tensor " + name + " has shape " + weights.info(name).shape()
                        + " but its config.json's " + config.architecture() + " needs " + shape);
            }
        }
        for (String name : new TreeSet<>(expected.byName().keySet())) {
            if (!weights.contains(name)) {
                throw new CheckpointException("checkpoint weights lack tensor " + name);
            }
        }
        return config;
    }

    /**
     * Checks that a folder can be written at {@code out}: it does not exist, or is an empty directory, or
     * {@code replace} is set and it is a directory.
     *
     * @throws IllegalArgumentException naming {@code out} and what is in the way
     */
    public static void checkTarget(Path out, boolean replace) {
        if (!Files.exists(out)) {
            return;
        }
        if (!Files.isDirectory(out)) {
            throw new IllegalArgumentException(out + " exists and is not a directory");
        }
        if (!replace) {
            try (Stream<Path> entries = Files.list(out)) {
                long n = entries.count();
                if (n > 0) {
                    throw new IllegalArgumentException(out + " exists and is not empty (" + n
                            + (n == 1 ? " entry)" : " entries)"));
                }
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot list " + out + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Writes {@code checkpoint} as a Hugging Face folder at {@code out} (see the class comment).
     *
     * @param dtype   the dtype of {@code model.safetensors}: F32 keeps the trained weights exactly; BF16 and F16
     *                round them to nearest, ties to even, as PyTorch does
     * @param replace whether an existing non-empty directory at {@code out} is replaced (an empty one always is)
     * @throws CheckpointException      if the checkpoint is refused ({@link #check})
     * @throws IllegalArgumentException if {@code out} is in the way ({@link #checkTarget})
     * @throws IOException              if writing fails (what was at {@code out} then stays)
     */
    public static Result write(Checkpoint checkpoint, Path out, SafetensorsDtype dtype, boolean replace)
            throws IOException {
        HfModelConfig config = check(checkpoint);
        checkTarget(out, replace);
        SafetensorsWeights weights = lmWeights(checkpoint);
        Path target = out.toAbsolutePath().normalize();
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp-" + UUID.randomUUID());
        int tensors = 0;
        boolean converts = false;
        for (String name : weights.names()) {
            tensors++;
            converts |= weights.info(name).dtype() != dtype;
        }
        Path old = null;
        try {
            Files.createDirectories(tmp);
            for (Map.Entry<String, byte[]> f : checkpoint.modelFiles().entrySet()) {
                String name = f.getKey();
                if (name.equals(SafetensorsWeights.SINGLE_FILE) || name.equals(SafetensorsWeights.INDEX_FILE)) {
                    continue;  // the weights are written below, from the checkpoint's own
                }
                byte[] bytes = name.equals(HfModelConfig.FILE) ? withDtype(f.getValue(), dtype) : f.getValue();
                Files.write(tmp.resolve(name), bytes);
            }
            // a copy that keeps the dtype needs no engine; a conversion goes through PyTorch (F16) or Java (BF16)
            try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(
                    tmp.resolve(SafetensorsWeights.SINGLE_FILE)), 1 << 16);
                 NDManager manager = converts ? ModelRuntime.init().newBaseManager(Device.cpu()) : null) {
                SafetensorsWriter.write(file, weights, dtype, manager);
            }
            if (Files.exists(target)) {
                old = target.resolveSibling("." + target.getFileName() + ".old-" + UUID.randomUUID());
                move(target, old);
            }
            try {
                move(tmp, target);
            } catch (IOException e) {
                if (old != null) {
                    move(old, target);
                }
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            try {
                deleteTree(tmp);
            } catch (IOException ignored) {
                // best effort; the original error is what matters
            }
            if (e instanceof HfFormatException hf) {
                throw new CheckpointException("checkpoint weights: " + hf.getMessage(), hf);
            }
            throw e;
        }
        if (old != null) {
            try {
                deleteTree(old);
            } catch (IOException e) {
                throw new IOException("exported to " + out + ", but the folder it replaced, moved to " + old
                        + ", could not be deleted: " + e.getMessage(), e);
            }
        }
        List<String> files = new ArrayList<>();
        try (Stream<Path> listed = Files.list(target)) {
            listed.map(p -> p.getFileName().toString()).sorted().forEach(files::add);
        }
        return new Result(out, config.architecture(), files, tensors, dtype,
                Files.size(target.resolve(SafetensorsWeights.SINGLE_FILE)));
    }

    /** The checkpoint's weights less the value head: what the Hugging Face model holds. */
    private static SafetensorsWeights lmWeights(Checkpoint checkpoint) {
        try {
            return SafetensorsWeights.of(SafetensorsFile.fromBytes(Path.of("checkpoint", "model.safetensors"),
                    checkpoint.weights())).without(HfPolicy.VALUE_WEIGHT, HfPolicy.VALUE_BIAS);
        } catch (HfFormatException e) {
            throw new CheckpointException("checkpoint weights: " + e.getMessage(), e);
        }
    }

    /**
     * {@code config.json} with its dtype set to the exported one, as {@code save_pretrained} writes it: servers that
     * load "auto" take the dtype from there. Newer folders name it {@code dtype}, older ones {@code torch_dtype}.
     */
    static byte[] withDtype(byte[] configJson, SafetensorsDtype dtype) throws IOException {
        JsonNode root = JSON.readTree(configJson);
        if (!(root instanceof ObjectNode config)) {
            throw new CheckpointException("checkpoint's " + HfModelConfig.FILE + " is not a JSON object");
        }
        boolean named = false;
        for (String key : new String[] {"dtype", "torch_dtype"}) {
            if (config.has(key)) {
                config.put(key, TORCH_DTYPE.get(dtype));
                named = true;
            }
        }
        if (!named) {
            config.put("torch_dtype", TORCH_DTYPE.get(dtype));
        }
        return (JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config) + "\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }
}
