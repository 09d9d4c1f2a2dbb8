package io.streamrlhf.schemas.serde;

import io.streamrlhf.schemas.registry.SchemaRegistryClient;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/**
 * Factories for configured Avro serdes, in the manner of Kafka's {@code Serdes}. Most code gets its serdes
 * from the topic catalog ({@code Topics}) instead, which shares one registry client between them.
 */
public final class AvroSerdes {
    private AvroSerdes() {
    }

    /**
     * A configured serde for a generated record class.
     *
     * @param config serde settings, at least {@code schema.registry.url}
     */
    public static <T extends SpecificRecord> SpecificAvroSerde<T> specific(Class<T> type, Map<String, ?> config,
                                                                          boolean isKey) {
        return new SpecificAvroSerde<>(type, new AvroSerdeConfig(config).registryClient(), config, isKey);
    }

    /** A configured serde for a generated record class that uses {@code client}. */
    public static <T extends SpecificRecord> SpecificAvroSerde<T> specific(Class<T> type, SchemaRegistryClient client,
                                                                          Map<String, ?> config, boolean isKey) {
        return new SpecificAvroSerde<>(type, client, config, isKey);
    }

    /** A configured serde for generic records. */
    public static GenericAvroSerde generic(Map<String, ?> config, boolean isKey) {
        return new GenericAvroSerde(new AvroSerdeConfig(config).registryClient(), config, isKey);
    }
}
