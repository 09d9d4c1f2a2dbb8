package io.streamrlhf.schemas.serde;

import io.streamrlhf.schemas.registry.SchemaRegistryClient;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;

/**
 * Deserializes into {@link GenericRecord}s with the writer's own schema (or generated classes, which are also
 * {@code GenericRecord}s, when {@code specific.avro.reader=true}): for tools that read any topic, such as replay.
 */
public class GenericAvroDeserializer extends AvroDeserializer<GenericRecord> {
    /** For Kafka to instantiate by class name; {@link #configure} must be called before use. */
    public GenericAvroDeserializer() {
        super(null);
    }

    public GenericAvroDeserializer(SchemaRegistryClient client, Map<String, ?> config, boolean isKey) {
        super(null, client, config, isKey);
    }
}
