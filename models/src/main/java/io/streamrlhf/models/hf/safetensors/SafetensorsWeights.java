package io.streamrlhf.models.hf.safetensors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.hf.HfFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * The weights of a Hugging Face folder: {@code model.safetensors}, or the shards that
 * {@code model.safetensors.index.json} lists (the index wins when both exist, as in {@code from_pretrained}).
 * Opening reads every header; {@link #load} reads one tensor at a time, so loading a model holds at most one
 * tensor besides the model itself.
 */
public final class SafetensorsWeights {

    /** The single-file name. */
    public static final String SINGLE_FILE = "model.safetensors";
    /** The index of a sharded folder. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final Path source;
    private final Map<String, SafetensorsFile> fileOf;

    private SafetensorsWeights(Path source, Map<String, SafetensorsFile> fileOf) {
        this.source = source;
        this.fileOf = Collections.unmodifiableMap(fileOf);
    }

    /** Whether {@code dir} holds safetensors weights (either form). */
    public static boolean present(Path dir) {
        return Files.isRegularFile(dir.resolve(INDEX_FILE)) || Files.isRegularFile(dir.resolve(SINGLE_FILE));
    }

    /**
     * Opens the weights of folder {@code dir}.
     *
     * @throws HfFormatException naming the file: neither form present, a shard the index names missing, a shard
     *                           holding a tensor the index maps elsewhere, or any file's header refused
     */
    public static SafetensorsWeights open(Path dir) {
        Path index = dir.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) {
            return openSharded(index);
        }
        Path single = dir.resolve(SINGLE_FILE);
        if (!Files.isRegularFile(single)) {
            throw new HfFormatException(dir, "no " + SINGLE_FILE + " or " + INDEX_FILE);
        }
        SafetensorsFile file = SafetensorsFile.open(single);
        Map<String, SafetensorsFile> fileOf = new TreeMap<>();
        file.tensors().keySet().forEach(name -> fileOf.put(name, file));
        return new SafetensorsWeights(single, fileOf);
    }

    /** The weights of one file, e.g. {@link SafetensorsFile#fromBytes} over a checkpoint's weights. */
    public static SafetensorsWeights of(SafetensorsFile file) {
        Map<String, SafetensorsFile> fileOf = new TreeMap<>();
        file.tensors().keySet().forEach(name -> fileOf.put(name, file));
        return new SafetensorsWeights(file.file(), fileOf);
    }

    /** These weights less the tensors {@code names} (those another part of a model loads itself). */
    public SafetensorsWeights without(String... names) {
        Map<String, SafetensorsFile> rest = new TreeMap<>(fileOf);
        for (String name : names) {
            rest.remove(name);
        }
        return new SafetensorsWeights(source, rest);
    }

    private static SafetensorsWeights openSharded(Path index) {
        JsonNode weightMap;
        try {
            weightMap = new ObjectMapper().readTree(index.toFile()).get("weight_map");
        } catch (IOException e) {
            throw new HfFormatException(index, "cannot read the index (" + e.getMessage() + ")", e);
        }
        if (weightMap == null || !weightMap.isObject()) {
            throw new HfFormatException(index, "the index has no weight_map object");
        }
        Map<String, String> shardOf = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            shardOf.put(e.getKey(), e.getValue().asText());
        }
        Map<String, SafetensorsFile> shards = new TreeMap<>();
        Map<String, SafetensorsFile> fileOf = new TreeMap<>();
        for (Map.Entry<String, String> e : shardOf.entrySet()) {
            String shardName = e.getValue();
            SafetensorsFile shard = shards.get(shardName);
            if (shard == null) {
                Path shardPath = index.resolveSibling(shardName);
                if (!Files.isRegularFile(shardPath)) {
                    throw new HfFormatException(index, "shard " + shardName + " (holding tensor " + e.getKey()
                            + ") is missing");
                }
                shard = SafetensorsFile.open(shardPath);
                shards.put(shardName, shard);
            }
            if (!shard.tensors().containsKey(e.getKey())) {
                throw new HfFormatException(shard.file(), "tensor " + e.getKey() + ": " + INDEX_FILE
                        + " maps it to this shard, which does not hold it");
            }
            fileOf.put(e.getKey(), shard);
        }
        for (SafetensorsFile shard : shards.values()) {
            for (String name : shard.tensors().keySet()) {
                if (fileOf.get(name) != shard) {
                    throw new HfFormatException(shard.file(), "tensor " + name + " is in this shard but "
                            + INDEX_FILE + " maps it to " + shardOf.get(name));
                }
            }
        }
        return new SafetensorsWeights(index, fileOf);
    }

    /** The file that lists the tensors: {@code model.safetensors} or the index. */
    public Path source() {
        return source;
    }

    /** Every tensor name, sorted. */
    public Iterable<String> names() {
        return fileOf.keySet();
    }

    /** Whether a tensor of that name is stored. */
    public boolean contains(String name) {
        return fileOf.containsKey(name);
    }

    /** The header entry of {@code name}. */
    public SafetensorsFile.TensorInfo info(String name) {
        return file(name).tensors().get(name);
    }

    /** The file holding {@code name}. */
    public Path fileOf(String name) {
        return file(name).file();
    }

    /** {@code name}'s bytes as stored, read-only ({@link SafetensorsFile#bytes}). */
    public ByteBuffer bytes(String name) {
        return file(name).bytes(name);
    }

    /** Reads {@code name} as a new float32 array in {@code manager}. */
    public NDArray load(NDManager manager, String name) {
        return file(name).load(manager, name);
    }

    private SafetensorsFile file(String name) {
        SafetensorsFile f = fileOf.get(name);
        if (f == null) {
            throw new HfFormatException(source, "tensor " + name + " is not stored");
        }
        return f;
    }
}
