package io.streamrlhf.schemas.serde;

import io.streamrlhf.schemas.registry.SchemaRegistryClient;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A typed {@link Serde} for one generated record class: {@link SpecificAvroSerializer} plus
 * {@link SpecificAvroDeserializer}. Either configure it with {@link #configure(Map, boolean)} (as Kafka Streams
 * does) or build it configured with {@link #SpecificAvroSerde(Class, SchemaRegistryClient, Map, boolean)}.
 *
 * @param <T> the generated record class
 */
public class SpecificAvroSerde<T extends SpecificRecord> implements Serde<T> {
    private boolean preconfigured;
    private final Class<T> type;
    private SpecificAvroSerializer<T> serializer;
    private SpecificAvroDeserializer<T> deserializer;

    /** An unconfigured serde for {@code type}. */
    public SpecificAvroSerde(Class<T> type) {
        this.type = type;
        this.serializer = new SpecificAvroSerializer<>();
        this.deserializer = new SpecificAvroDeserializer<>(type);
    }

    /** A configured serde for {@code type} sharing {@code client} (its caches) with other serdes. */
    public SpecificAvroSerde(Class<T> type, SchemaRegistryClient client, Map<String, ?> config, boolean isKey) {
        this.type = type;
        this.serializer = new SpecificAvroSerializer<>(client, config, isKey);
        this.deserializer = new SpecificAvroDeserializer<>(type, client, config, isKey);
        this.preconfigured = true;
    }

    /** The schema of the record class (what the serializer registers). */
    public org.apache.avro.Schema schema() {
        return org.apache.avro.specific.SpecificData.getForClass(type).getSchema(type);
    }

    /** The record class this serde reads and writes. */
    public Class<T> type() {
        return type;
    }

    /**
     * Configures a serde made with the no-configuration constructor. A serde built configured (as the topic
     * catalog's are) ignores this, so a framework configuring every serde it is handed cannot replace its
     * registry client with one built from a map that may not even name the registry.
     */
    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        if (preconfigured) {
            return;
        }
        AvroSerdeConfig config = new AvroSerdeConfig(configs);
        SchemaRegistryClient client = config.registryClient();
        this.serializer = new SpecificAvroSerializer<>(client, configs, isKey);
        this.deserializer = new SpecificAvroDeserializer<>(type, client, configs, isKey);
    }

    @Override
    public Serializer<T> serializer() {
        return serializer;
    }

    @Override
    public Deserializer<T> deserializer() {
        return deserializer;
    }

    @Override
    public String toString() {
        return "SpecificAvroSerde<" + type.getSimpleName() + ">";
    }
}
