package io.streamrlhf.schemas.serde;

/**
 * Confluent's wire format, byte by byte: {@code [0] magic byte 0x00, [1..4] schema id as a big-endian int,
 * [5..] the Avro binary encoding of the record with that writer schema}.
 */
public final class WireFormat {
    /** The only magic byte Confluent's format defines. */
    public static final byte MAGIC_BYTE = 0x0;
    /** Bytes before the Avro payload: the magic byte and the 4-byte schema id. */
    public static final int HEADER_SIZE = 5;

    private WireFormat() {
    }

    /** Writes the five header bytes for {@code schemaId} into {@code target} at {@code at}. */
    static void writeHeader(byte[] target, int at, int schemaId) {
        target[at] = MAGIC_BYTE;
        target[at + 1] = (byte) (schemaId >>> 24);
        target[at + 2] = (byte) (schemaId >>> 16);
        target[at + 3] = (byte) (schemaId >>> 8);
        target[at + 4] = (byte) schemaId;
    }

    /** Reads the big-endian schema id following the magic byte at {@code at}. */
    static int readSchemaId(byte[] source, int at) {
        return ((source[at + 1] & 0xff) << 24) | ((source[at + 2] & 0xff) << 16) | ((source[at + 3] & 0xff) << 8)
                | (source[at + 4] & 0xff);
    }

    /**
     * The schema id of a serialized record, for tools and DLQ handlers that want it without deserializing.
     *
     * @throws IllegalArgumentException when {@code payload} is not in the wire format
     */
    public static int schemaIdOf(byte[] payload) {
        if (payload == null || payload.length < HEADER_SIZE || payload[0] != MAGIC_BYTE) {
            throw new IllegalArgumentException("not in the Confluent wire format (needs magic byte 0 and a 4-byte id)");
        }
        return readSchemaId(payload, 0);
    }
}
