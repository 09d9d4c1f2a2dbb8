package io.streamrlhf.schemas.serde;

import io.streamrlhf.schemas.registry.SchemaRegistryClient;
import io.streamrlhf.schemas.registry.SchemaRegistryException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads the Confluent wire format: checks the magic byte, fetches the writer schema by id from the registry
 * (cached), and decodes the Avro binary with schema resolution into the reader schema — the bound class's schema
 * for a typed deserializer, so an old reader reads a newer compatible writer's records. Unbound, it returns
 * {@link org.apache.avro.generic.GenericRecord}s, or generated classes with {@code specific.avro.reader=true}.
 *
 * <p>Every failure is an {@link AvroSerdeException} naming the topic, the schema id when it was read, and what
 * was wrong. The whole payload must be consumed: trailing bytes mean the id does not describe the data.
 * Thread-safe once configured.
 *
 * @param <T> the type returned
 */
public class AvroDeserializer<T> implements Deserializer<T> {
    private static final ThreadLocal<BinaryDecoder> DECODERS = new ThreadLocal<>();

    private final Class<? extends SpecificRecord> boundType;
    private SchemaRegistryClient client;
    private boolean isKey;
    private boolean specificReader;
    private long retryMaxMs;
    private final Map<Integer, DatumReader<Object>> readers = new ConcurrentHashMap<>();

    /**
     * @param boundType the generated class every record is read into, or null to follow the writer schema
     */
    protected AvroDeserializer(Class<? extends SpecificRecord> boundType) {
        this.boundType = boundType;
        GeneratedClassTrust.ensureContractsTrusted();
        if (boundType != null) {
            GeneratedClassTrust.trustPackageOf(boundType);
        }
    }

    /** An unbound deserializer for Kafka to instantiate by class name; {@link #configure} must be called. */
    public AvroDeserializer() {
        this((Class<? extends SpecificRecord>) null);
    }

    protected AvroDeserializer(Class<? extends SpecificRecord> boundType, SchemaRegistryClient client,
                               Map<String, ?> config, boolean isKey) {
        this(boundType);
        configure(client, new AvroSerdeConfig(config), isKey);
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        AvroSerdeConfig config = new AvroSerdeConfig(configs);
        configure(config.registryClient(), config, isKey);
    }

    private void configure(SchemaRegistryClient client, AvroSerdeConfig config, boolean isKey) {
        this.client = Objects.requireNonNull(client, "client");
        this.isKey = isKey;
        this.specificReader = config.specificAvroReader();
        this.retryMaxMs = config.retryMaxMs();
    }

    /** The registry client in use. */
    public SchemaRegistryClient registryClient() {
        return client;
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        return data == null ? null : read(topic, data, 0, data.length);
    }

    @Override
    public T deserialize(String topic, Headers headers, byte[] data) {
        return deserialize(topic, data);
    }

    @Override
    public T deserialize(String topic, Headers headers, ByteBuffer data) {
        if (data == null) {
            return null;
        }
        if (data.hasArray()) {
            return read(topic, data.array(), data.arrayOffset() + data.position(), data.remaining());
        }
        byte[] copy = new byte[data.remaining()];
        data.duplicate().get(copy);
        return read(topic, copy, 0, copy.length);
    }

    /**
     * Deserializes a record whose position is known (e.g. from a {@code ConsumerRecord<byte[], byte[]>}), so a
     * failure names partition and offset too.
     */
    public T deserialize(String topic, int partition, long offset, byte[] data) {
        try {
            return deserialize(topic, data);
        } catch (AvroSerdeException e) {
            throw e.atPosition(partition, offset);
        }
    }

    @SuppressWarnings("unchecked")
    private T read(String topic, byte[] bytes, int start, int length) {
        if (client == null) {
            throw new IllegalStateException("AvroDeserializer used before configure()");
        }
        if (length < WireFormat.HEADER_SIZE) {
            throw AvroSerdeException.deserializing(topic, isKey, AvroSerdeException.UNKNOWN, "payload truncated: "
                    + length + " byte(s), shorter than the " + WireFormat.HEADER_SIZE
                    + "-byte wire header (magic byte 0 + 4-byte schema id)", null);
        }
        if (bytes[start] != WireFormat.MAGIC_BYTE) {
            throw AvroSerdeException.deserializing(topic, isKey, AvroSerdeException.UNKNOWN,
                    String.format("unknown magic byte 0x%02x (the Confluent wire format starts with 0x00); the record "
                            + "was not written by a schema-registry Avro serializer", bytes[start] & 0xff), null);
        }
        int id = WireFormat.readSchemaId(bytes, start);
        DatumReader<Object> reader;
        try {
            reader = readerRetryingOutages(id);
        } catch (SchemaRegistryException e) {
            String reason = e.isNotFound() ? "unknown schema id " + id + ": " + e.getMessage()
                    : e.isTransient() ? "schema registry unavailable for " + retryMaxMs + " ms: " + e.getMessage()
                    : e.getMessage();
            throw AvroSerdeException.deserializing(topic, isKey, id, reason, e);
        } catch (RuntimeException e) {
            // Avro refuses to resolve the writer schema into the reader's (incompatible or wrong type).
            throw AvroSerdeException.deserializing(topic, isKey, id, "cannot read the writer schema as "
                    + (boundType == null ? "a generic record" : boundType.getName()) + ": " + e.getMessage(), e);
        }
        int bodyStart = start + WireFormat.HEADER_SIZE;
        int bodyLength = length - WireFormat.HEADER_SIZE;
        BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, bodyStart, bodyLength, DECODERS.get());
        DECODERS.set(decoder); // reused per thread: decoding allocates nothing else per record
        Object value;
        try {
            value = reader.read(null, decoder);
        } catch (EOFException e) {
            throw AvroSerdeException.deserializing(topic, isKey, id, "payload truncated: the " + bodyLength
                    + "-byte Avro body ends before the record does", e);
        } catch (IOException | RuntimeException e) {
            throw AvroSerdeException.deserializing(topic, isKey, id, "corrupt Avro body (" + bodyLength + " bytes): "
                    + e, e);
        }
        try {
            if (!decoder.isEnd()) {
                throw AvroSerdeException.deserializing(topic, isKey, id, "corrupt payload: bytes left over after the "
                        + "record (the schema id does not describe the data)", null);
            }
        } catch (IOException e) {
            throw AvroSerdeException.deserializing(topic, isKey, id, "corrupt payload: " + e, e);
        }
        return (T) value;
    }

    /**
     * The reader for a writer schema id. An outage of the registry says nothing about the record, so it is retried
     * with exponential back-off (100 ms doubling to 5 s) for up to {@code schema.registry.retry.max.ms}; then the
     * last failure is thrown and {@link AvroSerdeException#isRegistryUnavailable()} tells callers not to
     * dead-letter the record.
     */
    private DatumReader<Object> readerRetryingOutages(int id) {
        long deadline = System.nanoTime() + retryMaxMs * 1_000_000L;
        long backoffMs = 100;
        while (true) {
            try {
                return readers.computeIfAbsent(id, this::newReader);
            } catch (SchemaRegistryException e) {
                long leftMs = (deadline - System.nanoTime()) / 1_000_000L;
                if (!e.isTransient() || leftMs <= 0 || Thread.currentThread().isInterrupted()) {
                    throw e;
                }
                try {
                    Thread.sleep(Math.min(backoffMs, leftMs));
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                backoffMs = Math.min(backoffMs * 2, 5_000);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private DatumReader<Object> newReader(int id) {
        Schema writer = client.schemaById(id);
        Class<? extends SpecificRecord> type = boundType;
        if (type == null && specificReader) {
            Class<?> found = SpecificData.get().getClass(writer);
            if (found != null && SpecificRecord.class.isAssignableFrom(found)) {
                type = (Class<? extends SpecificRecord>) found;
            }
        }
        if (type == null) {
            return new GenericDatumReader<>(writer, writer, GenericData.get());
        }
        SpecificData model = SpecificData.getForClass(type);
        Schema readerSchema = model.getSchema(type);
        if (!readerSchema.getFullName().equals(writer.getFullName())
                && !readerSchema.getAliases().contains(writer.getFullName())) {
            throw new IllegalArgumentException("the writer schema is " + writer.getFullName() + ", not "
                    + readerSchema.getFullName());
        }
        DatumReader<?> reader = new SpecificDatumReader<>(writer, readerSchema, model);
        return (DatumReader<Object>) reader;
    }
}
