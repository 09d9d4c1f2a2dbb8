package io.streamrlhf.models.hf.safetensors;

import ai.djl.ndarray.types.DataType;
import io.streamrlhf.models.hf.HfFormatException;
import java.nio.file.Path;

/** The safetensors element types this project reads and writes; other types are refused by name. */
public enum SafetensorsDtype {
    /** IEEE float32. */
    F32(4, DataType.FLOAT32),
    /** bfloat16: the top 16 bits of a float32 (what most published checkpoints hold). */
    BF16(2, DataType.BFLOAT16),
    /** IEEE float16. */
    F16(2, DataType.FLOAT16);

    private final int bytes;
    private final DataType dataType;

    SafetensorsDtype(int bytes, DataType dataType) {
        this.bytes = bytes;
        this.dataType = dataType;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** DJL's data type of the same layout. */
    public DataType dataType() {
        return dataType;
    }

    /**
     * The dtype of a header entry.
     *
     * @throws HfFormatException naming {@code file} and {@code tensor} for any other dtype
     */
    public static SafetensorsDtype of(String name, Path file, String tensor) {
        for (SafetensorsDtype d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        throw new HfFormatException(file, "tensor " + tensor + ": dtype " + name
                + " is not supported (F32, BF16 and F16 are)");
    }
}
