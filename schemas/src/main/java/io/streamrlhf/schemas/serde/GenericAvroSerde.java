package io.streamrlhf.schemas.serde;

import io.streamrlhf.schemas.registry.SchemaRegistryClient;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/** A {@link Serde} for {@link GenericRecord}s: {@link GenericAvroSerializer} plus {@link GenericAvroDeserializer}. */
public class GenericAvroSerde implements Serde<GenericRecord> {
    private boolean preconfigured;
    private GenericAvroSerializer serializer;
    private GenericAvroDeserializer deserializer;

    /** An unconfigured serde, for Kafka Streams to configure. */
    public GenericAvroSerde() {
        this.serializer = new GenericAvroSerializer();
        this.deserializer = new GenericAvroDeserializer();
    }

    /** A configured serde sharing {@code client} with other serdes. */
    public GenericAvroSerde(SchemaRegistryClient client, Map<String, ?> config, boolean isKey) {
        this.serializer = new GenericAvroSerializer(client, config, isKey);
        this.deserializer = new GenericAvroDeserializer(client, config, isKey);
        this.preconfigured = true;
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
        SchemaRegistryClient client = new AvroSerdeConfig(configs).registryClient();
        this.serializer = new GenericAvroSerializer(client, configs, isKey);
        this.deserializer = new GenericAvroDeserializer(client, configs, isKey);
    }

    @Override
    public Serializer<GenericRecord> serializer() {
        return serializer;
    }

    @Override
    public Deserializer<GenericRecord> deserializer() {
        return deserializer;
    }
}
