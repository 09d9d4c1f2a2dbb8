package io.streamrlhf.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.schemas.ContractSamples;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.registry.ForwardingSchemaRegistryClient;
import io.streamrlhf.schemas.registry.InMemorySchemaRegistryClient;
import io.streamrlhf.schemas.registry.SchemaRegistryException;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/** A registry outage is retried and, when it outlasts the retries, reported as an outage, never as a bad record. */
class RegistryOutageTest {
    private static final String TOPIC = "rlhf.prompts";

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final byte[] good = new SpecificAvroSerializer<Prompt>(registry, Map.of(), false).serialize(TOPIC,
            ContractSamples.prompt());

    /** Fails the first {@code failures} schema fetches as the REST client does when nothing answers. */
    private ForwardingSchemaRegistryClient down(int failures, AtomicInteger calls) {
        return new ForwardingSchemaRegistryClient(registry) {
            @Override
            public Schema schemaById(int id) {
                if (calls.incrementAndGet() <= failures) {
                    throw new SchemaRegistryException("Schema registry unreachable at http://registry:8081 while "
                            + "trying to fetch schema id " + id + ": ConnectException",
                            SchemaRegistryException.UNREACHABLE, SchemaRegistryException.UNREACHABLE);
                }
                return super.schemaById(id);
            }
        };
    }

    @Test
    void aShortOutageIsRetriedAndTheRecordIsRead() {
        AtomicInteger calls = new AtomicInteger();
        var deserializer = new SpecificAvroDeserializer<>(Prompt.class, down(2, calls), Map.of(), false);

        Prompt read = deserializer.deserialize(TOPIC, good);

        assertThat(read).isEqualTo(ContractSamples.prompt());
        assertThat(calls).hasValue(3);
    }

    @Test
    void anOutageLongerThanTheRetriesIsAnOutageNotABadRecord() {
        var deserializer = new SpecificAvroDeserializer<>(Prompt.class, down(Integer.MAX_VALUE, new AtomicInteger()),
                Map.of(AvroSerdeConfig.RETRY_MAX_MS, 300L), false);

        assertThatThrownBy(() -> deserializer.deserialize(TOPIC, good))
                .isInstanceOf(AvroSerdeException.class)
                .hasMessageContaining("schema registry unavailable for 300 ms")
                .satisfies(e -> assertThat(((AvroSerdeException) e).isRegistryUnavailable()).isTrue())
                .satisfies(e -> assertThat(AvroSerdeException.isRegistryOutage(
                        new RuntimeException("wrapped", e))).isTrue());
    }

    @Test
    void anUnknownSchemaIdOrAServerRefusalIsNotAnOutage() {
        byte[] unknownId = good.clone();
        unknownId[4] = 99;
        var deserializer = new SpecificAvroDeserializer<>(Prompt.class, registry, Map.of(), false);

        assertThatThrownBy(() -> deserializer.deserialize(TOPIC, unknownId))
                .satisfies(e -> assertThat(AvroSerdeException.isRegistryOutage(e)).isFalse());
        assertThat(new SchemaRegistryException("refused", 503, 50301).isTransient()).isTrue();
        assertThat(new SchemaRegistryException("not found", 404, 40403).isTransient()).isFalse();
    }
}
