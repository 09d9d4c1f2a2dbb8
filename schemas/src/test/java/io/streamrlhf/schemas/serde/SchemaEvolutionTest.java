package io.streamrlhf.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.schemas.ContractSamples;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.avro.Role;
import io.streamrlhf.schemas.registry.InMemorySchemaRegistryClient;
import io.streamrlhf.schemas.registry.SchemaRegistryException;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Contracts evolve under BACKWARD compatibility: a newer writer's records stay readable by code built against
 * the current classes, and the registry refuses changes that would break readers.
 */
class SchemaEvolutionTest {
    private static final String TOPIC = "rlhf.prompts";
    private static final String SUBJECT = TOPIC + "-value";
    private static final ObjectMapper JSON = new ObjectMapper();

    private InMemorySchemaRegistryClient registry;

    @BeforeEach
    void registerTheCurrentContract() {
        registry = new InMemorySchemaRegistryClient();
        new SpecificAvroSerializer<Prompt>(registry, Map.of(), false).serialize(TOPIC, ContractSamples.prompt());
        assertThat(registry.latest(SUBJECT).version()).isEqualTo(1);
    }

    /** Prompt's schema as JSON, changed by {@code edit}, parsed again. */
    private static Schema editedPrompt(Consumer<ObjectNode> edit) throws Exception {
        ObjectNode schema = (ObjectNode) JSON.readTree(Prompt.getClassSchema().toString());
        edit.accept(schema);
        return new Schema.Parser().parse(schema.toString());
    }

    private static ArrayNode fields(ObjectNode schema) {
        return (ArrayNode) schema.get("fields");
    }

    /** A generic record of {@code schema} holding the sample prompt's values (conversation rebuilt generically). */
    private static GenericRecord promptRecord(Schema schema, String role) {
        Prompt sample = ContractSamples.prompt();
        Schema turnSchema = schema.getField("conversation").schema().getElementType();
        GenericRecord turn = new GenericData.Record(turnSchema);
        turn.put("role", new GenericData.EnumSymbol(turnSchema.getField("role").schema(), role));
        turn.put("content", "hello");
        GenericRecord record = new GenericData.Record(schema);
        record.put("prompt_id", sample.getPromptId());
        record.put("conversation", List.of(turn));
        record.put("category", sample.getCategory());
        record.put("samples_per_prompt", sample.getSamplesPerPrompt());
        record.put("source", sample.getSource());
        record.put("metadata", sample.getMetadata());
        record.put("created_at", sample.getCreatedAt().toEpochMilli());
        record.put("reference_answers", sample.getReferenceAnswers());
        record.put("verifier", sample.getVerifier());
        return record;
    }

    @Test
    void oldReaderReadsANewerWritersRecordWithAnAddedFieldAndEnumSymbol() throws Exception {
        Schema newer = editedPrompt(schema -> {
            fields(schema).addObject().put("name", "language").put("type", "string").put("default", "en")
                    .put("doc", "ISO 639-1 language of the prompt.");
            // A role the current code does not know: the enum default maps it to UNKNOWN.
            ObjectNode role = (ObjectNode) fields(schema).get(1).get("type").get("items").get("fields").get(0).get("type");
            ((ArrayNode) role.get("symbols")).insert(3, "TOOL");
        });
        GenericRecord written = promptRecord(newer, "TOOL");
        written.put("language", "de");

        byte[] bytes = new GenericAvroSerializer(registry, Map.of(), false).serialize(TOPIC, written);
        Prompt read = new SpecificAvroDeserializer<>(Prompt.class, registry, Map.of(), false).deserialize(TOPIC, bytes);

        assertThat(registry.latest(SUBJECT).version()).isEqualTo(2); // the registry accepted the newer schema
        assertThat(WireFormat.schemaIdOf(bytes)).isEqualTo(registry.latest(SUBJECT).id());
        assertThat(read.getPromptId()).isEqualTo("p-000042");
        assertThat(read.getMetadata()).isEqualTo(ContractSamples.prompt().getMetadata());
        assertThat(read.getCreatedAt()).isEqualTo(ContractSamples.T0);
        assertThat(read.getConversation().get(0).getRole()).isEqualTo(Role.UNKNOWN);
        assertThat(read.getConversation().get(0).getContent()).isEqualTo("hello");
    }

    @Test
    void newReaderFillsTheDefaultForRecordsOfTheOldWriter() throws Exception {
        Schema newer = editedPrompt(schema -> fields(schema).addObject().put("name", "language").put("type", "string")
                .put("default", "en"));
        registry.register(SUBJECT, newer);
        byte[] old = new SpecificAvroSerializer<Prompt>(registry, Map.of(), false).serialize(TOPIC,
                ContractSamples.prompt());

        // A generic reader bound to the newer schema stands in for code built after the change.
        var reader = new org.apache.avro.generic.GenericDatumReader<GenericRecord>(registry.schemaById(
                WireFormat.schemaIdOf(old)), newer);
        GenericRecord read = reader.read(null, org.apache.avro.io.DecoderFactory.get().binaryDecoder(old,
                WireFormat.HEADER_SIZE, old.length - WireFormat.HEADER_SIZE, null));

        assertThat(read.get("language")).hasToString("en");
        assertThat(read.get("prompt_id")).hasToString("p-000042");
    }

    @Test
    void addingARequiredFieldWithoutDefaultIsRejectedReadably() throws Exception {
        Schema breaking = editedPrompt(schema -> fields(schema).addObject().put("name", "tenant").put("type", "string"));

        assertThatThrownBy(() -> registry.register(SUBJECT, breaking))
                .isInstanceOf(SchemaRegistryException.class)
                .satisfies(e -> assertThat(((SchemaRegistryException) e).isIncompatible()).isTrue())
                .hasMessageContaining("incompatible with an earlier schema for subject 'rlhf.prompts-value' (BACKWARD)")
                .hasMessageContaining("READER_FIELD_MISSING_DEFAULT_VALUE")
                .hasMessageContaining("tenant");
        assertThat(registry.testCompatibility(SUBJECT, breaking).compatible()).isFalse();
        assertThat(registry.latest(SUBJECT).version()).isEqualTo(1);

        // Through the serializer the same refusal is a SerializationException naming topic and subject.
        GenericRecord record = promptRecord(breaking, "USER");
        record.put("tenant", "acme");
        assertThatThrownBy(() -> new GenericAvroSerializer(registry, Map.of(), false).serialize(TOPIC, record))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("Cannot serialize value for topic 'rlhf.prompts'")
                .hasMessageContaining("HTTP 409")
                .hasMessageContaining("tenant");
    }

    @Test
    void changingAFieldTypeIsRejected() throws Exception {
        Schema breaking = editedPrompt(schema -> ((ObjectNode) fields(schema).get(0)).put("type", "long"));
        assertThat(breaking.getField("prompt_id").schema().getType()).isEqualTo(Schema.Type.LONG);

        var result = registry.testCompatibility(SUBJECT, breaking);

        assertThat(result.compatible()).isFalse();
        assertThat(result.messages()).anySatisfy(m -> assertThat(m).contains("TYPE_MISMATCH")
                .contains("prompt_id"));
    }
}
