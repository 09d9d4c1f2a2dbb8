package io.streamrlhf.rewardstream.topology;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * One generation waiting in the micro-batch buffer, with what its output and a possible dead letter need: key,
 * serialized value, record timestamp, where it was read (topic, partition, offset) and when it entered the buffer.
 * Stored in the changelogged buffer store as a small versioned binary record.
 */
record BufferedRecord(String key, byte[] value, long timestamp, String topic, int partition, long offset,
                      long enqueuedAtMs) {

    private static final byte FORMAT = 1;

    byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(value.length + 96);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            writeString(out, key);
            out.writeInt(value.length);
            out.write(value);
            out.writeLong(timestamp);
            writeString(out, topic);
            out.writeInt(partition);
            out.writeLong(offset);
            out.writeLong(enqueuedAtMs);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static BufferedRecord decode(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            byte format = in.readByte();
            if (format != FORMAT) {
                throw new IllegalStateException("micro-batch buffer entry has format " + format + ", expected "
                        + FORMAT);
            }
            String key = readString(in);
            byte[] value = new byte[in.readInt()];
            in.readFully(value);
            return new BufferedRecord(key, value, in.readLong(), readString(in), in.readInt(), in.readLong(),
                    in.readLong());
        } catch (IOException e) {
            throw new UncheckedIOException("micro-batch buffer entry is truncated", e);
        }
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String readString(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
