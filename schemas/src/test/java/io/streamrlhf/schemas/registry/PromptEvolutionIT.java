package io.streamrlhf.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.schemas.ContractSamples;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.serde.GeneratedClassTrust;
import io.streamrlhf.schemas.serde.GenericAvroSerializer;
import io.streamrlhf.schemas.serde.SpecificAvroDeserializer;
import io.streamrlhf.schemas.serde.SpecificAvroSerializer;
import io.streamrlhf.schemas.serde.WireFormat;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.junit.jupiter.api.Test;

/**
 * Reference answers and the verifier joined {@code Prompt} and {@code Generation} as a BACKWARD-compatible change:
 * proven both ways against the real registry — readers built before the change read new records, and today's
 * readers read records written before it.
 */
class PromptEvolutionIT {
    private static final Set<String> ADDED = Set.of("reference_answers", "verifier");

    private final RestSchemaRegistryClient client = new RestSchemaRegistryClient(SharedCluster.get().registryUrl());

    @Test
    void theRegistryAcceptsTheNewPromptAndGenerationUnderBackward() {
        for (Schema current : List.of(Prompt.getClassSchema(), Generation.getClassSchema())) {
            String subject = "it-evolve-" + current.getName() + "-" + UUID.randomUUID() + "-value";
            client.register(subject, withoutAddedFields(current));
            client.setCompatibility(subject, CompatibilityLevel.BACKWARD);
            assertThat(client.testCompatibility(subject, current).compatible()).as(current.getName()).isTrue();
        }
    }

    @Test
    void oldRecordsReadWithTodaysReaderAndNewRecordsWithYesterdays() throws IOException {
        GeneratedClassTrust.ensureContractsTrusted(); // Prompt.newBuilder(sample) deep-copies through Avro
        String topic = "it-prompt-evolution-" + UUID.randomUUID();
        Schema old = withoutAddedFields(Prompt.getClassSchema());
        Prompt sample = ContractSamples.prompt();

        // Written before the change: a record of the old schema, registered first.
        GenericRecord before = new GenericData.Record(old);
        for (Schema.Field f : old.getFields()) {
            Object value = sample.get(f.name());
            before.put(f.name(), value instanceof Instant t ? t.toEpochMilli() : value);
        }
        byte[] oldBytes = new GenericAvroSerializer(client, Map.of(), false).serialize(topic, before);
        client.setCompatibility(topic + "-value", CompatibilityLevel.BACKWARD);

        // Written after it, by today's producer, with answers and a verifier.
        Prompt withAnswers = Prompt.newBuilder(sample).setReferenceAnswers(List.of("42", "forty-two"))
                .setVerifier("numeric;extract=boxed").build();
        byte[] newBytes = new SpecificAvroSerializer<Prompt>(client, Map.of(), false).serialize(topic, withAnswers);
        assertThat(WireFormat.schemaIdOf(newBytes)).isNotEqualTo(WireFormat.schemaIdOf(oldBytes));

        // Today's reader, as a fresh process: old records get the defaults.
        var reader = new SpecificAvroDeserializer<>(Prompt.class,
                new RestSchemaRegistryClient(SharedCluster.get().registryUrl()), Map.of(), false);
        Prompt oldAsNew = reader.deserialize(topic, oldBytes);
        assertThat(oldAsNew.getPromptId()).isEqualTo(sample.getPromptId());
        assertThat(oldAsNew.getConversation()).isEqualTo(sample.getConversation());
        assertThat(oldAsNew.getReferenceAnswers()).isEmpty();
        assertThat(oldAsNew.getVerifier()).isNull();
        assertThat(reader.deserialize(topic, newBytes)).isEqualTo(withAnswers);

        // Yesterday's reader: resolves the writer's schema from the registry and reads with the old one.
        Schema writer = new RestSchemaRegistryClient(SharedCluster.get().registryUrl())
                .schemaById(WireFormat.schemaIdOf(newBytes));
        GenericRecord newAsOld = new GenericDatumReader<GenericRecord>(writer, old).read(null,
                DecoderFactory.get().binaryDecoder(newBytes, WireFormat.HEADER_SIZE,
                        newBytes.length - WireFormat.HEADER_SIZE, null));
        assertThat(newAsOld.getSchema().getField("reference_answers")).isNull();
        assertThat(newAsOld.get("prompt_id").toString()).isEqualTo(sample.getPromptId());
        assertThat(newAsOld.get("samples_per_prompt")).isEqualTo(sample.getSamplesPerPrompt());
        assertThat(newAsOld.get("conversation").toString()).isEqualTo(before.get("conversation").toString());
    }

    /** The schema as it was before the change: the same record without the added fields. */
    private static Schema withoutAddedFields(Schema current) {
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : current.getFields()) {
            if (!ADDED.contains(f.name())) {
                fields.add(new Schema.Field(f, f.schema()));
            }
        }
        assertThat(fields).hasSize(current.getFields().size() - ADDED.size());
        return Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false, fields);
    }
}
