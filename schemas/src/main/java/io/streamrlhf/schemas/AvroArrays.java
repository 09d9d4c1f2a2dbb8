package io.streamrlhf.schemas;

import java.util.ArrayList;
import java.util.List;

/**
 * Between the contracts' Avro arrays ({@code List<Integer>} token ids, {@code List<Float>} log-probs) and the primitive
 * arrays the models work on.
 */
public final class AvroArrays {

    private AvroArrays() {
    }

    /** The ids as an {@code int[]}; a null element throws {@link NullPointerException}. */
    public static int[] toInts(List<Integer> list) {
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = list.get(i);
        }
        return out;
    }

    /** The values as a {@code float[]}; a null element throws {@link NullPointerException}. */
    public static float[] toFloats(List<Float> list) {
        float[] out = new float[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = list.get(i);
        }
        return out;
    }

    /** The ids as a new list for an Avro field. */
    public static List<Integer> ofInts(int[] values) {
        List<Integer> out = new ArrayList<>(values.length);
        for (int v : values) {
            out.add(v);
        }
        return out;
    }

    /** The values as a new list for an Avro field. */
    public static List<Float> ofFloats(float[] values) {
        List<Float> out = new ArrayList<>(values.length);
        for (float v : values) {
            out.add(v);
        }
        return out;
    }
}
