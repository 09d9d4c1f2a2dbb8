package io.streamrlhf.schemas.serde;

import io.streamrlhf.schemas.registry.SchemaRegistryClient;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/**
 * The {@link AvroSerializer} for generated record classes such as {@link io.streamrlhf.schemas.avro.Prompt}.
 *
 * @param <T> the generated record class
 */
public class SpecificAvroSerializer<T extends SpecificRecord> extends AvroSerializer<T> {
    /** For Kafka to instantiate by class name; {@link #configure} must be called before use. */
    public SpecificAvroSerializer() {
    }

    public SpecificAvroSerializer(SchemaRegistryClient client, Map<String, ?> config, boolean isKey) {
        super(client, config, isKey);
    }
}
