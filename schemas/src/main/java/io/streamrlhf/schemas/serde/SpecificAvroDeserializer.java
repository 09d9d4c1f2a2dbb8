package io.streamrlhf.schemas.serde;

import io.streamrlhf.schemas.registry.SchemaRegistryClient;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/**
 * Deserializes into one generated class, whatever compatible schema version the writer used: Avro resolves the
 * writer schema into the class's schema (fields added by a newer writer are skipped, fields the writer lacked
 * take their defaults).
 *
 * @param <T> the generated record class
 */
public class SpecificAvroDeserializer<T extends SpecificRecord> extends AvroDeserializer<T> {

    /** Reads into {@code type}; {@link #configure} must be called before use. */
    public SpecificAvroDeserializer(Class<T> type) {
        super(type);
    }

    /** A configured deserializer reading into {@code type} through {@code client}. */
    public SpecificAvroDeserializer(Class<T> type, SchemaRegistryClient client, Map<String, ?> config, boolean isKey) {
        super(type, client, config, isKey);
    }
}
