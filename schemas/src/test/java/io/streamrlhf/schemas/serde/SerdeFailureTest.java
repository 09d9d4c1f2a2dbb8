package io.streamrlhf.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.schemas.ContractSamples;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.registry.InMemorySchemaRegistryClient;
import io.streamrlhf.schemas.registry.SchemaRegistryClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.Arrays;
import java.util.Map;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Each way a record can fail to (de)serialize raises a SerializationException that says where and why. */
class SerdeFailureTest {
    private static final String TOPIC = "rlhf.prompts";

    private SchemaRegistryClient registry;
    private SpecificAvroDeserializer<Prompt> deserializer;
    private byte[] good;
    private int id;

    @BeforeEach
    void writeOneGoodRecord() {
        registry = new InMemorySchemaRegistryClient();
        good = new SpecificAvroSerializer<Prompt>(registry, Map.of(), false).serialize(TOPIC,
                ContractSamples.prompt());
        id = WireFormat.schemaIdOf(good);
        deserializer = new SpecificAvroDeserializer<>(Prompt.class, registry, Map.of(), false);
    }

    @Test
    void wrongMagicByteIsNamed() {
        byte[] json = "{\"prompt_id\":\"p\"}".getBytes();
        assertThatThrownBy(() -> deserializer.deserialize(TOPIC, json))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("topic 'rlhf.prompts'")
                .hasMessageContaining("unknown magic byte 0x7b");
    }

    @Test
    void unknownSchemaIdIsNamed() {
        byte[] bytes = good.clone();
        bytes[4] = 99; // id 99 was never registered
        assertThatThrownBy(() -> deserializer.deserialize(TOPIC, bytes))
                .isInstanceOf(AvroSerdeException.class)
                .hasMessageContaining("topic 'rlhf.prompts'")
                .hasMessageContaining("(schema id 99)")
                .hasMessageContaining("unknown schema id 99")
                .satisfies(e -> assertThat(((AvroSerdeException) e).schemaId()).isEqualTo(99));
    }

    @Test
    void payloadShorterThanTheHeaderIsTruncated() {
        assertThatThrownBy(() -> deserializer.deserialize(TOPIC, new byte[] {0, 0, 1}))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("topic 'rlhf.prompts'")
                .hasMessageContaining("payload truncated: 3 byte(s)");
    }

    @Test
    void bodyCutShortIsTruncated() {
        byte[] cut = Arrays.copyOf(good, good.length - 10);
        assertThatThrownBy(() -> deserializer.deserialize(TOPIC, cut))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("topic 'rlhf.prompts'")
                .hasMessageContaining("(schema id " + id + ")")
                .hasMessageContaining("payload truncated");
    }

    @Test
    void trailingBytesAreReportedNotIgnored() {
        byte[] longer = Arrays.copyOf(good, good.length + 2);
        assertThatThrownBy(() -> deserializer.deserialize(TOPIC, longer))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("bytes left over");
    }

    @Test
    void positionIsAddedWhenTheCallerKnowsIt() {
        byte[] bytes = good.clone();
        bytes[0] = 1;
        assertThatThrownBy(() -> deserializer.deserialize(TOPIC, 3, 1234L, bytes))
                .isInstanceOf(AvroSerdeException.class)
                .hasMessageStartingWith("Cannot deserialize value of topic 'rlhf.prompts' partition 3 offset 1234:")
                .satisfies(e -> {
                    AvroSerdeException failure = (AvroSerdeException) e;
                    assertThat(failure.partition()).isEqualTo(3);
                    assertThat(failure.offset()).isEqualTo(1234L);
                    assertThat(failure.reason()).startsWith("unknown magic byte 0x01");
                });
        // The helper for DLQ handlers that get the failure from elsewhere (e.g. a Streams handler).
        SerializationException other = AvroSerdeException.locate(new IllegalStateException("boom"), TOPIC, 1, 2L);
        assertThat(other).hasMessage("Cannot deserialize record of topic 'rlhf.prompts' partition 1 offset 2: "
                + "java.lang.IllegalStateException: boom");
    }

    @Test
    void registryDownWhileSerializingIsNamed() throws IOException {
        String url = "http://localhost:" + closedPort();
        var serializer = new SpecificAvroSerializer<Prompt>();
        serializer.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, url,
                AvroSerdeConfig.CONNECT_TIMEOUT_MS, 2000), false);

        assertThatThrownBy(() -> serializer.serialize(TOPIC, ContractSamples.prompt()))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("Cannot serialize value for topic 'rlhf.prompts'")
                .hasMessageContaining("Schema registry unreachable at " + url)
                .hasMessageContaining("subject 'rlhf.prompts-value'");
    }

    @Test
    void registryDownWhileDeserializingNamesTheSchemaId() throws IOException {
        var fresh = new SpecificAvroDeserializer<>(Prompt.class);
        fresh.configure(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, "http://localhost:" + closedPort(),
                AvroSerdeConfig.RETRY_MAX_MS, 0L), false);

        assertThatThrownBy(() -> fresh.deserialize(TOPIC, good))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("topic 'rlhf.prompts'")
                .hasMessageContaining("(schema id " + id + ")")
                .hasMessageContaining("unreachable")
                .hasMessageContaining("fetch schema id " + id);
    }

    @Test
    void recordWithAMissingRequiredFieldIsNamed() {
        Prompt broken = ContractSamples.prompt();
        broken.setPromptId(null);
        var serializer = new SpecificAvroSerializer<Prompt>(registry, Map.of(), false);
        assertThatThrownBy(() -> serializer.serialize(TOPIC, broken))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("topic 'rlhf.prompts'")
                .hasMessageContaining("prompt_id");
    }

    @Test
    void readingAnotherContractIntoATypedDeserializerIsNamed() {
        byte[] generation = new AvroSerializer<>(registry, Map.of(), false).serialize("g",
                ContractSamples.generation());
        assertThatThrownBy(() -> deserializer.deserialize("g", generation))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("writer schema is io.streamrlhf.schemas.avro.Generation, not "
                        + "io.streamrlhf.schemas.avro.Prompt");
    }

    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort(); // free once closed: nothing listens there
        }
    }
}
