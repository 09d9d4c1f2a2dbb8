package io.streamrlhf.models.hf.safetensors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.hf.HfFormatException;
import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@code .safetensors} file: an 8-byte little-endian header length, a JSON header mapping each tensor
 * name to {@code dtype}, {@code shape} and {@code data_offsets} (relative to the data that follows), then the
 * data. Opening reads and validates only the header, as safetensors' own {@code Metadata::validate} does
 * (offsets inside the file, contiguous, each the size its dtype and shape imply); {@link #load} maps one
 * tensor's bytes and returns it as float32.
 */
public final class SafetensorsFile {

    /** safetensors' own limit on the header (MAX_HEADER_SIZE): a larger length means a corrupt file. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA = "__metadata__";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One header entry.
     *
     * @param name  the tensor's name
     * @param dtype its element type on disk
     * @param shape its shape
     * @param begin first byte, relative to the data section
     * @param end   one past the last byte, relative to the data section
     */
    public record TensorInfo(String name, SafetensorsDtype dtype, Shape shape, long begin, long end) {
    }

    private final Path file;
    /** The whole file when it is held in memory ({@link #fromBytes}), else null and the file is mapped. */
    private final ByteBuffer inMemory;
    /** For an in-memory file: the direct buffer tensors pass through on their way to PyTorch, largest so far. */
    private ByteBuffer scratch;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path file, ByteBuffer inMemory, long dataStart, Map<String, TensorInfo> tensors,
                            Map<String, String> metadata) {
        this.file = file;
        this.inMemory = inMemory;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /**
     * Reads and validates the header of a safetensors file held in memory (a checkpoint's weights as they come off
     * Kafka); {@code label} names it in messages. The bytes are not copied: they must not change while this is used.
     *
     * @throws HfFormatException naming {@code label} as {@link #open} does
     */
    public static SafetensorsFile fromBytes(Path label, byte[] bytes) {
        ByteBuffer all = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long size = bytes.length;
        if (size < 8) {
            throw new HfFormatException(label, "truncated safetensors file: " + size
                    + " bytes, shorter than the 8-byte header length");
        }
        long headerLength = all.getLong(0);
        checkHeaderLength(label, headerLength, size);
        byte[] header = new byte[(int) headerLength];
        all.get(8, header);
        long dataStart = 8 + headerLength;
        return parse(label, all, readHeader(label, header), dataStart, size - dataStart);
    }

    private static void checkHeaderLength(Path file, long headerLength, long size) {
        if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES) {
            throw new HfFormatException(file, "corrupt safetensors header: header length " + headerLength
                    + " is not in [1, " + MAX_HEADER_BYTES + "]");
        }
        if (8 + headerLength > size) {
            throw new HfFormatException(file, "truncated safetensors file: header length " + headerLength
                    + " runs past the end of the file (" + size + " bytes)");
        }
    }

    private static JsonNode readHeader(Path file, byte[] header) {
        JsonNode root;
        try {
            root = JSON.readTree(new String(header, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new HfFormatException(file, "corrupt safetensors header: not valid JSON ("
                    + e.getOriginalMessage() + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new HfFormatException(file, "corrupt safetensors header: not a JSON object");
        }
        return root;
    }

    /**
     * Reads and validates the header of {@code file}.
     *
     * @throws HfFormatException naming the file (and tensor) if the file is missing, truncated, its header
     *                           corrupt, an offset outside the data, or a dtype not supported
     */
    public static SafetensorsFile open(Path file) {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new HfFormatException(file, "safetensors data is little-endian; this host is not");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new HfFormatException(file, "truncated safetensors file: " + size
                        + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lengthBytes, 0);
            long headerLength = lengthBytes.flip().getLong();
            checkHeaderLength(file, headerLength, size);
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(ch, header, 8);
            long dataStart = 8 + headerLength;
            return parse(file, null, readHeader(file, header.array()), dataStart, size - dataStart);
        } catch (IOException e) {
            throw new HfFormatException(file, "cannot read safetensors file (" + e + ")", e);
        }
    }

    private static SafetensorsFile parse(Path file, ByteBuffer inMemory, JsonNode root, long dataStart,
                                         long dataLength) {
        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (METADATA.equals(e.getKey())) {
                e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
            } else {
                entries.add(entry(file, e.getKey(), e.getValue(), dataLength));
            }
        }
        entries.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long expected = 0;
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        for (TensorInfo t : entries) {
            if (t.begin() != expected) {
                throw new HfFormatException(file, "corrupt safetensors header: tensor " + t.name()
                        + ": data_offsets [" + t.begin() + ", " + t.end() + "] do not start where the previous tensor"
                        + " ends (" + expected + ")");
            }
            expected = t.end();
            byName.put(t.name(), t);
        }
        if (expected != dataLength) {
            throw new HfFormatException(file, "corrupt safetensors file: " + (dataLength - expected)
                    + " bytes of data are not covered by any tensor");
        }
        return new SafetensorsFile(file, inMemory, dataStart, Collections.unmodifiableMap(byName),
                Collections.unmodifiableMap(metadata));
    }

    private static TensorInfo entry(Path file, String name, JsonNode node, long dataLength) {
        JsonNode dtype = node.get("dtype");
        JsonNode shape = node.get("shape");
        JsonNode offsets = node.get("data_offsets");
        if (dtype == null || !dtype.isTextual() || shape == null || !shape.isArray() || offsets == null
                || !offsets.isArray() || offsets.size() != 2) {
            throw new HfFormatException(file, "corrupt safetensors header: tensor " + name
                    + ": entry needs dtype, shape and two data_offsets, got " + node);
        }
        SafetensorsDtype type = SafetensorsDtype.of(dtype.asText(), file, name);
        long[] dims = new long[shape.size()];
        long elements = 1;
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shape.get(i);
            if (!d.canConvertToLong() || d.asLong() < 0) {
                throw new HfFormatException(file, "corrupt safetensors header: tensor " + name + ": shape " + shape
                        + " is not a list of non-negative integers");
            }
            dims[i] = d.asLong();
            elements = Math.multiplyExact(elements, dims[i]);
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin || end > dataLength) {
            throw new HfFormatException(file, "tensor " + name + ": data_offsets [" + offsets.get(0) + ", "
                    + offsets.get(1) + "] lie outside the file's data (" + dataLength + " bytes)");
        }
        if (end - begin != elements * type.bytes()) {
            throw new HfFormatException(file, "corrupt safetensors header: tensor " + name + ": data_offsets ["
                    + begin + ", " + end + "] hold " + (end - begin) + " bytes but " + type + shape + " needs "
                    + elements * type.bytes());
        }
        return new TensorInfo(name, type, new Shape(dims), begin, end);
    }

    private static void readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, pos);
            if (n < 0) {
                throw new IOException("unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }

    /** The file. */
    public Path file() {
        return file;
    }

    /** Header entries by name, in the order of their data. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /** The header's {@code __metadata__} (e.g. {@code format: pt}); empty if it has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * {@code name}'s bytes as stored (its own dtype, little-endian), read-only: a slice of the bytes held in memory,
     * or a mapping of the file (released with the buffer). What a copy that keeps the dtype writes out unchanged.
     *
     * @throws HfFormatException naming the file if the tensor is not in it or cannot be read
     */
    public ByteBuffer bytes(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new HfFormatException(file, "tensor " + name + " is not in this file");
        }
        int length = Math.toIntExact(t.end() - t.begin());
        if (inMemory != null) {
            return inMemory.slice(Math.toIntExact(dataStart + t.begin()), length).asReadOnlyBuffer()
                    .order(ByteOrder.LITTLE_ENDIAN);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin(), length).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new HfFormatException(file, "tensor " + name + ": cannot read its data (" + e + ")", e);
        }
    }

    /**
     * Maps {@code name}'s bytes from the file and returns them as a new float32 array in {@code manager}
     * (BF16 and F16 are widened by PyTorch). The mapping is released with its buffer; only the float32 result
     * stays in memory.
     *
     * @throws HfFormatException naming the file if the tensor is not in it or cannot be read
     */
    public NDArray load(NDManager manager, String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new HfFormatException(file, "tensor " + name + " is not in this file");
        }
        if (t.shape().size() == 0) {
            return manager.zeros(t.shape(), DataType.FLOAT32);
        }
        if (inMemory != null) {
            ByteBuffer bytes = bytes(t);
            if (t.dtype() == SafetensorsDtype.BF16) {
                return widenBf16(manager, bytes, t.shape());
            }
            // through one direct buffer reused tensor after tensor: DJL would copy a heap buffer into a fresh direct
            // one per tensor, native memory that stays until a garbage collection frees it
            ByteBuffer direct = scratch(bytes.remaining());
            direct.put(bytes).flip();
            try (NDArray wrapped = manager.create(direct, t.shape(), t.dtype().dataType())) {
                return t.dtype() == SafetensorsDtype.F32 ? wrapped.duplicate() : wrapped.toType(DataType.FLOAT32,
                        false);
            }
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MappedByteBuffer bytes = ch.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin(), t.end() - t.begin());
            bytes.order(ByteOrder.LITTLE_ENDIAN);
            if (t.dtype() == SafetensorsDtype.BF16) {
                return widenBf16(manager, bytes, t.shape());
            }
            // PyTorch wraps the mapped bytes without copying (from_blob); the copy below (a clone for F32, a
            // conversion for F16) lives in memory PyTorch owns, so the wrapper is closed and the mapping may go.
            // toType to the same type would alias the mapping, which is unmapped once the buffer is collected.
            try (NDArray onDisk = manager.create(bytes, t.shape(), t.dtype().dataType())) {
                return t.dtype() == SafetensorsDtype.F32 ? onDisk.duplicate() : onDisk.toType(DataType.FLOAT32, false);
            } finally {
                Reference.reachabilityFence(bytes);
            }
        } catch (IOException e) {
            throw new HfFormatException(file, "tensor " + name + ": cannot read its data (" + e + ")", e);
        }
    }

    private ByteBuffer bytes(TensorInfo t) {
        return inMemory.slice(Math.toIntExact(dataStart + t.begin()), Math.toIntExact(t.end() - t.begin()))
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A cleared direct buffer of at least {@code size} bytes, the same one each call while it is large enough. */
    private synchronized ByteBuffer scratch(int size) {
        if (scratch == null || scratch.capacity() < size) {
            scratch = ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder());
        }
        return scratch.clear().limit(size);
    }

    /**
     * BF16 to float32 in Java (a bfloat16 is the top half of a float32, so this is exact): DJL 0.36's PyTorch engine
     * aborts the process on bfloat16 conversions.
     */
    private static NDArray widenBf16(NDManager manager, ByteBuffer bytes, Shape shape) {
        int n = Math.toIntExact(shape.size());
        java.nio.FloatBuffer floats = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int i = 0; i < n; i++) {
            floats.put(Float.intBitsToFloat((bytes.getShort(2 * i) & 0xFFFF) << 16));
        }
        return manager.create(floats.flip(), shape);
    }
}
