package io.streamrlhf.models.hf.safetensors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Writes tensors as {@code save_pretrained} does: a compact JSON header with {@code {"format":"pt"}}
 * metadata first and the tensors sorted by name (one dtype per file, so this is safetensors' own order),
 * padded with spaces to a multiple of 8 bytes, then each tensor's little-endian bytes. Conversion to F16 is
 * PyTorch's, to BF16 this class's; both round to nearest, ties to even, as {@code tensor.to(torch.bfloat16)}. The same tensors always give
 * the same bytes.
 */
public final class SafetensorsWriter {

    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsWriter() {
    }

    /**
     * Writes {@code tensors} to {@code dir} as {@code model.safetensors} ({@code shards == 1}) or as
     * {@code model-0000i-of-0000n.safetensors} files with {@code model.safetensors.index.json}
     * ({@code shards > 1}); tensors go to shards in name order, in groups of nearly equal count.
     */
    public static void writeFolder(Path dir, Map<String, NDArray> tensors, SafetensorsDtype dtype, int shards)
            throws IOException {
        SortedMap<String, NDArray> sorted = new TreeMap<>(tensors);
        if (shards < 1 || shards > sorted.size()) {
            throw new IllegalArgumentException("shards must be in [1, " + sorted.size() + "], got " + shards);
        }
        Files.createDirectories(dir);
        if (shards == 1) {
            write(dir.resolve(SafetensorsWeights.SINGLE_FILE), sorted, dtype);
            return;
        }
        List<String> names = new ArrayList<>(sorted.keySet());
        ObjectNode weightMap = JSON.createObjectNode();
        long totalSize = 0;
        int from = 0;
        for (int s = 0; s < shards; s++) {
            int to = (int) ((long) names.size() * (s + 1) / shards);
            String shardName = String.format("model-%05d-of-%05d.safetensors", s + 1, shards);
            SortedMap<String, NDArray> part = new TreeMap<>();
            for (String name : names.subList(from, to)) {
                part.put(name, sorted.get(name));
                weightMap.put(name, shardName);
                totalSize += sorted.get(name).getShape().size() * dtype.bytes();
            }
            write(dir.resolve(shardName), part, dtype);
            from = to;
        }
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", totalSize);
        index.set("weight_map", weightMap);
        Files.writeString(dir.resolve(SafetensorsWeights.INDEX_FILE),
                JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index) + "\n");
    }

    /** Writes {@code tensors} (any float type; converted to {@code dtype}) to one file, sorted by name. */
    public static void write(Path file, Map<String, NDArray> tensors, SafetensorsDtype dtype) throws IOException {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            write(out, tensors, dtype);
        }
    }

    /** The bytes of a safetensors file holding {@code tensors} (as {@link #write(Path, Map, SafetensorsDtype)}). */
    public static byte[] toBytes(Map<String, NDArray> tensors, SafetensorsDtype dtype) {
        try {
            SortedMap<String, Shape> shapes = new TreeMap<>();
            tensors.forEach((name, a) -> shapes.put(name, a.getShape()));
            ByteArrayOutputStream header = new ByteArrayOutputStream();
            writeHeader(header, shapes, dtype);
            long size = header.size();
            for (Shape shape : shapes.values()) {
                size += shape.size() * dtype.bytes();
            }
            if (size > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("a safetensors file of " + size + " bytes does not fit one byte "
                        + "array (2 GiB)");
            }
            // written into an array of the exact size: a growing stream would copy the weights once more at the end
            byte[] out = new byte[(int) size];
            write(new FixedArrayOutput(out), tensors, dtype);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An output stream over an array of the exact size, without the copy {@link ByteArrayOutputStream} makes. */
    private static final class FixedArrayOutput extends OutputStream {
        private final byte[] array;
        private int position;

        FixedArrayOutput(byte[] array) {
            this.array = array;
        }

        @Override
        public void write(int b) {
            array[position++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            System.arraycopy(b, off, array, position, len);
            position += len;
        }
    }

    /** Writes a safetensors file holding {@code tensors} to {@code out} (not closed), sorted by name. */
    public static void write(OutputStream out, Map<String, NDArray> tensors, SafetensorsDtype dtype)
            throws IOException {
        SortedMap<String, NDArray> sorted = new TreeMap<>(tensors);
        SortedMap<String, Shape> shapes = new TreeMap<>();
        sorted.forEach((name, a) -> shapes.put(name, a.getShape()));
        writeHeader(out, shapes, dtype);
        for (NDArray a : sorted.values()) {
            writeData(out, a, dtype);
        }
    }

    /**
     * Writes every tensor of {@code source} to {@code out} (not closed) as one safetensors file of {@code dtype},
     * sorted by name, one tensor at a time: a tensor already stored as {@code dtype} is copied byte for byte, any
     * other is read as float32 into a sub-manager of {@code manager} and converted as {@link #write} converts.
     * Nothing but the tensor being converted is held besides {@code source}.
     *
     * @param manager where conversions happen; may be null when every tensor is stored as {@code dtype}
     * @throws io.streamrlhf.models.hf.HfFormatException naming the file and tensor that cannot be read
     */
    public static void write(OutputStream out, SafetensorsWeights source, SafetensorsDtype dtype, NDManager manager)
            throws IOException {
        SortedMap<String, Shape> shapes = new TreeMap<>();
        for (String name : source.names()) {
            shapes.put(name, source.info(name).shape());
        }
        writeHeader(out, shapes, dtype);
        byte[] chunk = new byte[1 << 16];
        for (String name : shapes.keySet()) {
            if (source.info(name).dtype() == dtype) {
                ByteBuffer bytes = source.bytes(name);
                while (bytes.hasRemaining()) {
                    int n = Math.min(chunk.length, bytes.remaining());
                    bytes.get(chunk, 0, n);
                    out.write(chunk, 0, n);
                }
            } else {
                if (manager == null) {
                    throw new IllegalArgumentException("tensor " + name + " is stored as " + source.info(name).dtype()
                            + ", not " + dtype + ": converting it needs an NDManager");
                }
                try (NDManager one = manager.newSubManager()) {
                    writeData(out, source.load(one, name), dtype);
                }
            }
        }
    }

    /** The 8-byte length, the JSON header ({@code {"format":"pt"}} metadata, then the tensors in order) and padding. */
    private static void writeHeader(OutputStream out, SortedMap<String, Shape> shapes, SafetensorsDtype dtype)
            throws IOException {
        ObjectNode header = JSON.createObjectNode();
        header.putObject(SafetensorsFile.METADATA).put("format", "pt");
        long offset = 0;
        for (Map.Entry<String, Shape> e : shapes.entrySet()) {
            long length = e.getValue().size() * dtype.bytes();
            ObjectNode entry = header.putObject(e.getKey());
            entry.put("dtype", dtype.name());
            ArrayNode shape = entry.putArray("shape");
            for (long d : e.getValue().getShape()) {
                shape.add(d);
            }
            entry.putArray("data_offsets").add(offset).add(offset + length);
            offset += length;
        }
        byte[] json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;  // safetensors: "Force alignment to 8 bytes."
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
        out.write(json);
        for (int i = json.length; i < padded; i++) {
            out.write(' ');
        }
    }

    private static void writeData(OutputStream out, NDArray a, SafetensorsDtype dtype) throws IOException {
        if (dtype == SafetensorsDtype.BF16) {
            writeBf16(out, a);
            return;
        }
        NDArray converted = a.toType(dtype.dataType(), false);
        try {
            ByteBuffer bytes = converted.toByteBuffer().order(ByteOrder.nativeOrder());
            if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
                throw new IOException("safetensors data is little-endian; this host is not");
            }
            byte[] chunk = new byte[1 << 16];
            while (bytes.hasRemaining()) {
                int n = Math.min(chunk.length, bytes.remaining());
                bytes.get(chunk, 0, n);
                out.write(chunk, 0, n);
            }
        } finally {
            if (converted != a) {
                converted.close();
            }
        }
    }

    /**
     * BF16 by hand: DJL 0.36's PyTorch engine aborts the process when asked to convert to bfloat16, so the
     * float32 values are rounded here the way PyTorch's {@code c10::BFloat16} does (to nearest, ties to
     * even; NaN stays NaN).
     */
    private static void writeBf16(OutputStream out, NDArray a) throws IOException {
        float[] values = a.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
        ByteBuffer bytes = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            bytes.putShort(bf16Bits(v));
        }
        out.write(bytes.array());
    }

    /** The bfloat16 nearest to {@code v} (ties to even), as its 16 bits. */
    static short bf16Bits(float v) {
        if (Float.isNaN(v)) {
            return (short) 0x7FC0;
        }
        int bits = Float.floatToRawIntBits(v);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}
