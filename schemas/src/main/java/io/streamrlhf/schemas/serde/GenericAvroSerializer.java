package io.streamrlhf.schemas.serde;

import io.streamrlhf.schemas.registry.SchemaRegistryClient;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;

/** The {@link AvroSerializer} for {@link GenericRecord}s, whose schema is known only at run time. */
public class GenericAvroSerializer extends AvroSerializer<GenericRecord> {
    /** For Kafka to instantiate by class name; {@link #configure} must be called before use. */
    public GenericAvroSerializer() {
    }

    public GenericAvroSerializer(SchemaRegistryClient client, Map<String, ?> config, boolean isKey) {
        super(client, config, isKey);
    }
}
