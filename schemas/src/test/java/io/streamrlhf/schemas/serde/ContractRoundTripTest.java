package io.streamrlhf.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.schemas.ContractSamples;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.registry.InMemorySchemaRegistryClient;
import io.streamrlhf.schemas.registry.SchemaRegistryClient;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** Every topic contract survives serialize → deserialize unchanged, typed and generic. */
class ContractRoundTripTest {

    static Stream<SpecificRecord> contracts() {
        return ContractSamples.all().stream();
    }

    @ParameterizedTest(name = "{index}: {0}")
    @MethodSource("contracts")
    @SuppressWarnings({"unchecked", "rawtypes"})
    void specificRoundTripGivesAnEqualRecord(SpecificRecord record) {
        SchemaRegistryClient registry = new InMemorySchemaRegistryClient();
        Class type = record.getClass();
        SpecificAvroSerde serde = AvroSerdes.specific(type, registry, Map.of(), false);
        String topic = "rlhf." + type.getSimpleName();

        byte[] bytes = serde.serializer().serialize(topic, record);
        Object back = serde.deserializer().deserialize(topic, bytes);

        assertThat(back).isInstanceOf(type).isEqualTo(record);
        assertThat(registry.subjects()).containsExactly(topic + "-value");
        // Same result through the ByteBuffer overload Kafka 4 consumers use, with a non-zero array offset.
        ByteBuffer framed = ByteBuffer.allocate(bytes.length + 3).put(new byte[] {9, 9, 9}).put(bytes);
        framed.position(3);
        assertThat(serde.deserializer().deserialize(topic, new RecordHeaders(), framed)).isEqualTo(record);
    }

    @ParameterizedTest(name = "{index}: {0}")
    @MethodSource("contracts")
    void genericReaderSeesTheWriterSchemaAndValues(SpecificRecord record) {
        SchemaRegistryClient registry = new InMemorySchemaRegistryClient();
        byte[] bytes = new AvroSerializer<SpecificRecord>(registry, Map.of(), false).serialize("t", record);

        GenericRecord generic = new GenericAvroDeserializer(registry, Map.of(), false).deserialize("t", bytes);

        assertThat(generic.getSchema()).isEqualTo(record.getSchema());
        // Generic values keep Avro's raw representation (timestamp-millis as epoch-millis longs, as Confluent's
        // generic deserializer does by default). Written again and read back typed, they give the original record
        // (map entry order may differ, so compare records rather than bytes).
        byte[] again = new GenericAvroSerializer(registry, Map.of(), false).serialize("t", generic);
        Object typed = new AvroDeserializer<>(record.getClass(), registry, Map.of(), false).deserialize("t", again);
        assertThat(typed).isEqualTo(record);
    }

    @Test
    void unboundDeserializerWithSpecificReaderReturnsGeneratedClasses() {
        SchemaRegistryClient registry = new InMemorySchemaRegistryClient();
        Prompt prompt = ContractSamples.prompt();
        byte[] bytes = new SpecificAvroSerializer<Prompt>(registry, Map.of(), false).serialize("p", prompt);

        var deserializer = new GenericAvroDeserializer(registry, Map.of(AvroSerdeConfig.SPECIFIC_AVRO_READER, "true"),
                false);

        assertThat((Object) deserializer.deserialize("p", bytes)).isInstanceOf(Prompt.class).isEqualTo(prompt);
    }

    @Test
    void aPreconfiguredSerdeIgnoresALaterConfigure() {
        SchemaRegistryClient registry = new InMemorySchemaRegistryClient();
        SpecificAvroSerde<Prompt> serde = AvroSerdes.specific(Prompt.class, registry, Map.of(), false);
        serde.configure(Map.of("application.id", "streams-app"), false); // no registry URL in there

        byte[] bytes = serde.serializer().serialize("p", ContractSamples.prompt());

        assertThat(serde.deserializer().deserialize("p", bytes)).isEqualTo(ContractSamples.prompt());
        assertThat(registry.subjects()).containsExactly("p-value");
    }

    @Test
    void keySerdeRegistersUnderTheKeySubject() {
        SchemaRegistryClient registry = new InMemorySchemaRegistryClient();
        Generation generation = ContractSamples.generation();
        new SpecificAvroSerializer<Generation>(registry, Map.of(), true).serialize("g", generation);
        assertThat(registry.subjects()).containsExactly("g-key");
    }

    @Test
    void mockUrlSharesOneScopedRegistryBetweenSerdesConfiguredFromMaps() {
        String scope = "round-trip-" + System.nanoTime();
        Map<String, Object> config = Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, "mock://" + scope);
        try {
            SpecificAvroSerde<Prompt> writer = new SpecificAvroSerde<>(Prompt.class);
            writer.configure(config, false);
            SpecificAvroSerde<Prompt> reader = new SpecificAvroSerde<>(Prompt.class);
            reader.configure(config, false);

            byte[] bytes = writer.serializer().serialize("p", ContractSamples.prompt());

            assertThat(reader.deserializer().deserialize("p", bytes)).isEqualTo(ContractSamples.prompt());
            assertThat(InMemorySchemaRegistryClient.scoped(scope).subjects()).containsExactly("p-value");
        } finally {
            InMemorySchemaRegistryClient.dropScope(scope);
        }
    }
}
