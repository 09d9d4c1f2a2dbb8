package io.streamrlhf.rewardstream.topology;

import io.streamrlhf.schemas.avro.Generation;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The generations of one task that have been read but whose results are not written yet (the batch being scored
 * and the next one filling up), in input order, kept in memory together with their encoding as one value of the
 * changelogged buffer store ({@link #toBytes()}).
 *
 * <p>Why one value and not one store entry per record: the store is cached, so of all the values put between two
 * commits only the last reaches RocksDB and the changelog. A record that arrives and is written out between two
 * commits therefore costs no changelog write at all; only what is still pending when a transaction commits is
 * written, once. The encoding grows by appending, so keeping it current costs one copy per record.
 */
final class PendingBatch {
    private static final byte FORMAT = 2;

    private final List<BufferedRecord> records = new ArrayList<>();
    private final List<Generation> generations = new ArrayList<>();
    private final List<byte[]> entries = new ArrayList<>();
    private final ByteArrayOutputStream encoded = new ByteArrayOutputStream(4096);

    PendingBatch() {
        encoded.write(FORMAT);
    }

    /** Appends a record and its decoded value. */
    void add(BufferedRecord record, Generation generation) {
        byte[] entry = record.encode();
        records.add(record);
        generations.add(generation);
        entries.add(entry);
        append(entry);
    }

    private void append(byte[] entry) {
        encoded.writeBytes(ByteBuffer.allocate(Integer.BYTES).putInt(entry.length).array());
        encoded.writeBytes(entry);
    }

    int size() {
        return records.size();
    }

    boolean isEmpty() {
        return records.isEmpty();
    }

    /** The buffered records, in input order (a view). */
    List<BufferedRecord> records() {
        return records;
    }

    /** The decoded generations, in input order (a view). */
    List<Generation> generations() {
        return generations;
    }

    /** When the record at {@code index} entered the buffer. */
    long enqueuedAtMs(int index) {
        return records.get(index).enqueuedAtMs();
    }

    /** Removes the first {@code n} records (their results have been written). */
    void dropFirst(int n) {
        if (n > records.size()) {
            throw new IllegalArgumentException("cannot drop " + n + " of " + records.size() + " pending records");
        }
        records.subList(0, n).clear();
        generations.subList(0, n).clear();
        entries.subList(0, n).clear();
        encoded.reset();
        encoded.write(FORMAT);
        entries.forEach(this::append);
    }

    /** The store value: a format byte, then each record's {@link BufferedRecord#encode()} with its length. */
    byte[] toBytes() {
        return encoded.toByteArray();
    }

    /** The store value of the records {@code from} (inclusive) to {@code to} (exclusive) alone. */
    byte[] toBytes(int from, int to) {
        if (from == 0 && to == records.size()) {
            return toBytes();
        }
        int length = 1;
        for (int i = from; i < to; i++) {
            length += Integer.BYTES + entries.get(i).length;
        }
        ByteBuffer out = ByteBuffer.allocate(length).put(FORMAT);
        for (int i = from; i < to; i++) {
            out.putInt(entries.get(i).length).put(entries.get(i));
        }
        return out.array();
    }

    /** Reads {@link #toBytes()}, decoding each value with {@code decoder}. */
    static PendingBatch fromBytes(byte[] bytes, Function<BufferedRecord, Generation> decoder) {
        PendingBatch batch = new PendingBatch();
        batch.addAll(bytes, decoder);
        return batch;
    }

    /** Appends the records of a {@link #toBytes()} value, decoding each value with {@code decoder}. */
    void addAll(byte[] bytes, Function<BufferedRecord, Generation> decoder) {
        PendingBatch batch = this;
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            byte format = in.readByte();
            if (format != FORMAT) {
                throw new IllegalStateException("micro-batch buffer has format " + format + ", expected " + FORMAT
                        + " (written by another version of the reward stream?)");
            }
            while (in.available() > 0) {
                byte[] entry = new byte[in.readInt()];
                in.readFully(entry);
                BufferedRecord record = BufferedRecord.decode(entry);
                batch.add(record, decoder.apply(record));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("micro-batch buffer value is truncated", e);
        }
    }
}
