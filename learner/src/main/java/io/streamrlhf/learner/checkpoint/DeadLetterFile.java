package io.streamrlhf.learner.checkpoint;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The dead letters a checkpoint covers, kept in its directory until the version is published: they are sent in the
 * publication's transaction, and a learner that saved the checkpoint but died before publishing publishes it on
 * restart with these same letters, so none is lost and none is sent twice.
 *
 * <p>Written by hand: a ProducerRecord has no serialised form of its own, and the layout is small — a magic and a
 * count, then per record its topic, key, value and headers, each length-prefixed (−1 for null) in
 * {@link DataOutputStream} encoding. Partitions and timestamps are not kept: a dead letter is sent to its topic's
 * default partitioner, stamped when it is sent.
 */
public final class DeadLetterFile {

    /** File name inside a checkpoint version's directory. */
    public static final String NAME = "dead-letters.bin";
    private static final int MAGIC = 0x444c5101;  // "DLQ" + format 1

    private DeadLetterFile() {
    }

    /** The bytes of {@code letters}. */
    public static byte[] encode(List<ProducerRecord<byte[], byte[]>> letters) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeInt(letters.size());
            for (ProducerRecord<byte[], byte[]> r : letters) {
                out.writeUTF(r.topic());
                writeBytes(out, r.key());
                writeBytes(out, r.value());
                Header[] headers = r.headers().toArray();
                out.writeInt(headers.length);
                for (Header h : headers) {
                    out.writeUTF(h.key());
                    writeBytes(out, h.value());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * The letters {@link #encode} wrote.
     *
     * @throws IllegalArgumentException naming what is wrong when {@code bytes} are not such a file
     */
    public static List<ProducerRecord<byte[], byte[]>> decode(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            int magic = in.readInt();
            if (magic != MAGIC) {
                throw new IllegalArgumentException(NAME + ": not a dead-letter file (magic " + Integer.toHexString(magic)
                        + ")");
            }
            int count = in.readInt();
            if (count < 0 || count > bytes.length) {
                throw new IllegalArgumentException(NAME + ": impossible record count " + count);
            }
            List<ProducerRecord<byte[], byte[]>> letters = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                String topic = in.readUTF();
                byte[] key = readBytes(in, bytes.length);
                byte[] value = readBytes(in, bytes.length);
                int headerCount = in.readInt();
                if (headerCount < 0 || headerCount > bytes.length) {
                    throw new IllegalArgumentException(NAME + ": record " + i + " has an impossible header count "
                            + headerCount);
                }
                RecordHeaders headers = new RecordHeaders();
                for (int h = 0; h < headerCount; h++) {
                    headers.add(in.readUTF(), readBytes(in, bytes.length));
                }
                letters.add(new ProducerRecord<>(topic, null, null, key, value, headers));
            }
            if (in.available() > 0) {
                throw new IllegalArgumentException(NAME + ": " + in.available() + " bytes after the last record");
            }
            return letters;
        } catch (EOFException e) {
            throw new IllegalArgumentException(NAME + ": truncated", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        if (b == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(b.length);
            out.write(b);
        }
    }

    private static byte[] readBytes(DataInputStream in, int limit) throws IOException {
        int n = in.readInt();
        if (n == -1) {
            return null;
        }
        if (n < 0 || n > limit) {
            throw new IllegalArgumentException(NAME + ": impossible length " + n);
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }
}
