package io.streamrlhf.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Rules every topic contract keeps: documented throughout, and BACKWARD compatible with its released version. */
class ContractsTest {

    static List<Class<? extends SpecificRecord>> contracts() {
        return ContractSamples.all().stream().<Class<? extends SpecificRecord>>map(SpecificRecord::getClass).toList();
    }

    private static Schema schemaOf(Class<? extends SpecificRecord> type) throws Exception {
        return (Schema) type.getMethod("getClassSchema").invoke(null);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("contracts")
    void everyRecordEnumAndFieldHasADoc(Class<? extends SpecificRecord> type) throws Exception {
        List<String> undocumented = new ArrayList<>();
        collectUndocumented(schemaOf(type), new HashSet<>(), undocumented);
        assertThat(undocumented).as("named types and fields without a doc").isEmpty();
    }

    private static void collectUndocumented(Schema schema, Set<String> seen, List<String> into) {
        switch (schema.getType()) {
            case RECORD -> {
                if (!seen.add(schema.getFullName())) {
                    return;
                }
                if (blank(schema.getDoc())) {
                    into.add(schema.getFullName());
                }
                for (Schema.Field field : schema.getFields()) {
                    if (blank(field.doc())) {
                        into.add(schema.getName() + "." + field.name());
                    }
                    collectUndocumented(field.schema(), seen, into);
                }
            }
            case ENUM -> {
                if (seen.add(schema.getFullName()) && blank(schema.getDoc())) {
                    into.add(schema.getFullName());
                }
            }
            case ARRAY -> collectUndocumented(schema.getElementType(), seen, into);
            case MAP -> collectUndocumented(schema.getValueType(), seen, into);
            case UNION -> schema.getTypes().forEach(t -> collectUndocumented(t, seen, into));
            default -> {
            }
        }
    }

    private static boolean blank(String doc) {
        return doc == null || doc.isBlank();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("contracts")
    void currentSchemaReadsDataOfTheReleasedSchema(Class<? extends SpecificRecord> type) throws Exception {
        Schema released;
        try (InputStream in = ContractsTest.class.getResourceAsStream("/contract-snapshots/" + type.getSimpleName()
                + ".avsc")) {
            assertThat(in).as("snapshot of " + type.getSimpleName()).isNotNull();
            released = new Schema.Parser().parse(in);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        var result = SchemaCompatibility.checkReaderWriterCompatibility(schemaOf(type), released).getResult();
        assertThat(result.getCompatibility())
                .as("%s must stay BACKWARD compatible with its released schema: %s", type.getSimpleName(),
                        result.getIncompatibilities())
                .isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
    }
}
