package io.streamrlhf.models.encoder;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The float initializers (weights) of an ONNX model, read straight from its protobuf bytes, in graph order.
 *
 * <p>Written by hand because no maintained Java library on Maven Central reads ONNX's ModelProto without native
 * code (ONNX Runtime's Java API runs models but does not expose their initializers); only the few fields a weight
 * needs are decoded: ModelProto.graph (7) → GraphProto.initializer (5) → TensorProto dims (1), data_type (2),
 * float_data (4), name (8), raw_data (9).
 */
final class OnnxInitializers {
    private static final int FLOAT = 1;

    /** A weight: its dimensions and values in row-major order. */
    record Tensor(long[] dims, float[] values) {
    }

    private OnnxInitializers() {
    }

    /** Every FLOAT initializer by name, in the order the graph lists them. */
    static Map<String, Tensor> read(byte[] model) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        int[] graph = null;
        for (Field f : fields(model, 0, model.length)) {
            if (f.number == 7 && f.wireType == 2) {
                graph = new int[] {f.start, f.end};
            }
        }
        if (graph == null) {
            throw new IllegalArgumentException("no graph in this ONNX model");
        }
        for (Field f : fields(model, graph[0], graph[1])) {
            if (f.number != 5 || f.wireType != 2) {
                continue;
            }
            String name = null;
            List<Long> dims = new ArrayList<>();
            long type = 0;
            float[] values = null;
            List<Float> floats = new ArrayList<>();
            for (Field t : fields(model, f.start, f.end)) {
                switch (t.number) {
                    case 1 -> dims.add(t.value);
                    case 2 -> type = t.value;
                    case 8 -> name = new String(model, t.start, t.end - t.start, java.nio.charset.StandardCharsets.UTF_8);
                    case 9 -> {
                        ByteBuffer raw = ByteBuffer.wrap(model, t.start, t.end - t.start).order(ByteOrder.LITTLE_ENDIAN);
                        values = new float[(t.end - t.start) / 4];
                        raw.asFloatBuffer().get(values);
                    }
                    case 4 -> {
                        if (t.wireType == 2) { // packed
                            ByteBuffer packed = ByteBuffer.wrap(model, t.start, t.end - t.start)
                                    .order(ByteOrder.LITTLE_ENDIAN);
                            while (packed.remaining() >= 4) {
                                floats.add(packed.getFloat());
                            }
                        } else {
                            floats.add(Float.intBitsToFloat((int) t.value));
                        }
                    }
                    default -> { }
                }
            }
            if (type != FLOAT) {
                continue;
            }
            if (values == null) {
                values = new float[floats.size()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = floats.get(i);
                }
            }
            out.put(name, new Tensor(dims.stream().mapToLong(Long::longValue).toArray(), values));
        }
        return out;
    }

    private record Field(int number, int wireType, long value, int start, int end) {
    }

    private static List<Field> fields(byte[] b, int start, int end) {
        List<Field> out = new ArrayList<>();
        int[] pos = {start};
        while (pos[0] < end) {
            long key = varint(b, pos);
            int number = (int) (key >>> 3);
            int wire = (int) (key & 7);
            switch (wire) {
                case 0 -> out.add(new Field(number, wire, varint(b, pos), 0, 0));
                case 1 -> {
                    out.add(new Field(number, wire, ByteBuffer.wrap(b, pos[0], 8).order(ByteOrder.LITTLE_ENDIAN)
                            .getLong(), 0, 0));
                    pos[0] += 8;
                }
                case 2 -> {
                    int len = (int) varint(b, pos);
                    out.add(new Field(number, wire, 0, pos[0], pos[0] + len));
                    pos[0] += len;
                }
                case 5 -> {
                    out.add(new Field(number, wire, ByteBuffer.wrap(b, pos[0], 4).order(ByteOrder.LITTLE_ENDIAN)
                            .getInt() & 0xffffffffL, 0, 0));
                    pos[0] += 4;
                }
                default -> throw new IllegalArgumentException("unsupported protobuf wire type " + wire + " at " + pos[0]);
            }
        }
        return out;
    }

    private static long varint(byte[] b, int[] pos) {
        long result = 0;
        int shift = 0;
        while (true) {
            byte c = b[pos[0]++];
            result |= (long) (c & 0x7f) << shift;
            if ((c & 0x80) == 0) {
                return result;
            }
            shift += 7;
        }
    }
}
