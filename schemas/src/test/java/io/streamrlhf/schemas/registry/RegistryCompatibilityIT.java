package io.streamrlhf.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.schemas.avro.ModelRef;
import io.streamrlhf.schemas.serde.GenericAvroSerializer;
import io.streamrlhf.schemas.serde.SpecificAvroDeserializer;
import io.streamrlhf.schemas.serde.SpecificAvroSerializer;
import io.streamrlhf.schemas.serde.WireFormat;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The REST client and the serde against the real registry (Apicurio 3.0.9, Confluent-compatible API). */
class RegistryCompatibilityIT {
    private static final Logger log = LoggerFactory.getLogger(RegistryCompatibilityIT.class);

    /** ModelRef plus a field with a default: a BACKWARD-compatible next version. */
    private static final Schema MODEL_REF_V2 = SchemaBuilder.record("ModelRef").namespace("io.streamrlhf.schemas.avro")
            .fields().requiredString("name").requiredLong("version")
            .name("stage").type().stringType().stringDefault("prod").endRecord();
    /** ModelRef plus a required field: breaks readers of version 1 data. */
    private static final Schema MODEL_REF_BREAKING = SchemaBuilder.record("ModelRef")
            .namespace("io.streamrlhf.schemas.avro").fields().requiredString("name").requiredLong("version")
            .requiredString("owner").endRecord();

    private final RestSchemaRegistryClient client = new RestSchemaRegistryClient(SharedCluster.get().registryUrl());

    @Test
    void registrationLookupAndFetchAgreeWithTheRealRegistry() {
        String subject = "it-registry-" + UUID.randomUUID() + "-value";
        int id = client.register(subject, ModelRef.getClassSchema());

        assertThat(client.register(subject, ModelRef.getClassSchema())).isEqualTo(id);
        assertThat(new RestSchemaRegistryClient(SharedCluster.get().registryUrl()).schemaById(id))
                .isEqualTo(ModelRef.getClassSchema());
        assertThat(new RestSchemaRegistryClient(SharedCluster.get().registryUrl()).lookupId(subject,
                ModelRef.getClassSchema())).isEqualTo(id);
        RegisteredSchema latest = client.latest(subject);
        assertThat(latest.version()).isEqualTo(1);
        assertThat(latest.id()).isEqualTo(id);
        assertThat(client.subjects()).contains(subject);
    }

    @Test
    void theCatalogRegistersEveryContractUnderBackward() {
        io.streamrlhf.schemas.topics.Topics topics = io.streamrlhf.schemas.topics.Topics.builder()
                .prefix("it-catalog-" + UUID.randomUUID().toString().substring(0, 8) + ".")
                .registryUrl(SharedCluster.get().registryUrl()).build();

        Map<String, Integer> ids = topics.registerSchemas();

        assertThat(ids).hasSize(8);
        for (String subject : ids.keySet()) {
            assertThat(client.compatibility(subject)).as(subject).isEqualTo(CompatibilityLevel.BACKWARD);
            assertThat(client.latest(subject).id()).isEqualTo(ids.get(subject));
        }
        assertThat(topics.registerSchemas()).isEqualTo(ids);
    }

    @Test
    void incompatibleChangeIsRejectedWith409AndAReadableMessage() {
        String subject = "it-compat-" + UUID.randomUUID() + "-value";
        client.register(subject, ModelRef.getClassSchema());
        client.setCompatibility(subject, CompatibilityLevel.BACKWARD);
        assertThat(client.compatibility(subject)).isEqualTo(CompatibilityLevel.BACKWARD);

        assertThat(client.testCompatibility(subject, MODEL_REF_BREAKING).compatible()).isFalse();
        assertThat(client.testCompatibility(subject, MODEL_REF_V2).compatible()).isTrue();

        assertThatThrownBy(() -> client.register(subject, MODEL_REF_BREAKING))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    log.info("Registry refusal as users see it: {}", e.getMessage());
                    assertThat(e.httpStatus()).isEqualTo(409);
                    assertThat(e.isIncompatible()).isTrue();
                })
                .hasMessageContaining("refused to register schema io.streamrlhf.schemas.avro.ModelRef under subject '"
                        + subject + "': HTTP 409");
        assertThat(client.latest(subject).version()).isEqualTo(1);
    }

    @Test
    void oldReaderReadsTheNewerWritersRecordsThroughTheRealRegistry() {
        String topic = "it-evolution-" + UUID.randomUUID();
        Map<String, Object> config = Map.of();
        byte[] v1 = new SpecificAvroSerializer<ModelRef>(client, config, false).serialize(topic,
                new ModelRef("rm-0", 5L));
        client.setCompatibility(topic + "-value", CompatibilityLevel.BACKWARD);

        GenericRecord newer = new GenericData.Record(MODEL_REF_V2);
        newer.put("name", "rm-0");
        newer.put("version", 6L);
        newer.put("stage", "canary");
        byte[] v2 = new GenericAvroSerializer(client, config, false).serialize(topic, newer);

        assertThat(WireFormat.schemaIdOf(v2)).isNotEqualTo(WireFormat.schemaIdOf(v1));
        assertThat(client.latest(topic + "-value").version()).isEqualTo(2);
        // A fresh client, as another process would have, resolves the new id from the registry.
        var reader = new SpecificAvroDeserializer<>(ModelRef.class,
                new RestSchemaRegistryClient(SharedCluster.get().registryUrl()), config, false);
        assertThat(reader.deserialize(topic, v2)).isEqualTo(new ModelRef("rm-0", 6L));
        assertThat(reader.deserialize(topic, v1)).isEqualTo(new ModelRef("rm-0", 5L));

        // And the breaking writer is refused by the serializer with the registry's answer.
        GenericRecord breaking = new GenericData.Record(MODEL_REF_BREAKING);
        breaking.put("name", "rm-0");
        breaking.put("version", 7L);
        breaking.put("owner", "team");
        assertThatThrownBy(() -> new GenericAvroSerializer(client, config, false).serialize(topic, breaking))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("Cannot serialize value for topic '" + topic + "'")
                .hasMessageContaining("HTTP 409");
    }
}
