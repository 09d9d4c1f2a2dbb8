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
    }

    /** The record class this serde reads and writes. */
    public Class<T> type() {
        return type;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
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
