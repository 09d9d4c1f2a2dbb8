package io.streamrlhf.schemas.serde;

import io.streamrlhf.schemas.registry.SchemaRegistryException;
import org.apache.kafka.common.errors.SerializationException;

/**
 * A record that could not be serialized or deserialized, with the facts a dead-letter handler needs as fields
 * and in the message: the topic, key or value, the schema id when known, partition and offset when known, and
 * the reason ("unknown magic byte 0x7b", "payload truncated", "schema registry unreachable", ...).
 *
 * <p>Kafka's {@code Deserializer.deserialize(topic, headers, data)} is not told partition and offset, so the
 * deserializer cannot name them; code that has the {@code ConsumerRecord} (the DLQ handlers) adds them with
 * {@link #locate(Throwable, String, int, long)} or {@link #atPosition(int, long)}.
 */
public class AvroSerdeException extends SerializationException {
    private static final long serialVersionUID = 1L;

    /** Marks an unknown schema id, partition or offset. */
    public static final int UNKNOWN = -1;

    private final boolean serializing;
    private final String topic;
    private final boolean key;
    private final int schemaId;
    private final int partition;
    private final long offset;
    private final String reason;

    public AvroSerdeException(boolean serializing, String topic, boolean key, int schemaId, int partition,
                              long offset, String reason, Throwable cause) {
        super(compose(serializing, topic, key, schemaId, partition, offset, reason), cause);
        this.serializing = serializing;
        this.topic = topic;
        this.key = key;
        this.schemaId = schemaId;
        this.partition = partition;
        this.offset = offset;
        this.reason = reason;
    }

    static AvroSerdeException serializing(String topic, boolean key, int schemaId, String reason, Throwable cause) {
        return new AvroSerdeException(true, topic, key, schemaId, UNKNOWN, UNKNOWN, reason, cause);
    }

    static AvroSerdeException deserializing(String topic, boolean key, int schemaId, String reason, Throwable cause) {
        return new AvroSerdeException(false, topic, key, schemaId, UNKNOWN, UNKNOWN, reason, cause);
    }

    private static String compose(boolean serializing, String topic, boolean key, int schemaId, int partition,
                                  long offset, String reason) {
        StringBuilder message = new StringBuilder("Cannot ")
                .append(serializing ? "serialize " : "deserialize ")
                .append(key ? "key" : "value")
                .append(serializing ? " for topic '" : " of topic '")
                .append(topic).append('\'');
        if (partition != UNKNOWN) {
            message.append(" partition ").append(partition);
        }
        if (offset != UNKNOWN) {
            message.append(" offset ").append(offset);
        }
        if (schemaId != UNKNOWN) {
            message.append(" (schema id ").append(schemaId).append(')');
        }
        return message.append(": ").append(reason).toString();
    }

    /** The same failure, with the record's partition and offset added to the fields and the message. */
    public AvroSerdeException atPosition(int partition, long offset) {
        AvroSerdeException located = new AvroSerdeException(serializing, topic, key, schemaId, partition, offset,
                reason, getCause());
        located.setStackTrace(getStackTrace());
        return located;
    }

    /**
     * Adds partition and offset to any deserialization failure, for dead-letter handlers: an
     * {@code AvroSerdeException} gets them as fields too; any other exception is wrapped in a
     * {@link SerializationException} whose message names topic, partition and offset and keeps the original.
     */
    public static SerializationException locate(Throwable failure, String topic, int partition, long offset) {
        if (failure instanceof AvroSerdeException avro) {
            return avro.atPosition(partition, offset);
        }
        return new SerializationException("Cannot deserialize record of topic '" + topic + "' partition " + partition
                + " offset " + offset + ": " + failure, failure);
    }

    /**
     * True when the registry could not be asked (unreachable, overloaded or failing): the record itself may be
     * fine, so it must be read again later and never dead-lettered.
     */
    public boolean isRegistryUnavailable() {
        return getCause() instanceof SchemaRegistryException registry && registry.isTransient();
    }

    /**
     * Whether {@code failure}, or any exception it wraps, is a registry outage rather than a bad record: a
     * dead-letter handler retries those and dead-letters the rest.
     */
    public static boolean isRegistryOutage(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof AvroSerdeException avro && avro.isRegistryUnavailable()
                    || t instanceof SchemaRegistryException registry && registry.isTransient()) {
                return true;
            }
        }
        return false;
    }

    public boolean isSerializing() {
        return serializing;
    }

    public String topic() {
        return topic;
    }

    public boolean isKey() {
        return key;
    }

    /** The writer schema id, or {@link #UNKNOWN}. */
    public int schemaId() {
        return schemaId;
    }

    /** The partition, or {@link #UNKNOWN}. */
    public int partition() {
        return partition;
    }

    /** The offset, or {@link #UNKNOWN}. */
    public long offset() {
        return offset;
    }

    /** What was wrong, without the topic prefix. */
    public String reason() {
        return reason;
    }
}
