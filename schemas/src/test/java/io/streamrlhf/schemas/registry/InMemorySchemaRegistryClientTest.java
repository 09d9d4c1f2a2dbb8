package io.streamrlhf.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.Test;

class InMemorySchemaRegistryClientTest {
    private static final Schema V1 = SchemaBuilder.record("Item").namespace("t").fields()
            .requiredString("id").endRecord();
    private static final Schema V2_WITH_DEFAULT = SchemaBuilder.record("Item").namespace("t").fields()
            .requiredString("id").name("size").type().intType().intDefault(1).endRecord();
    private static final Schema V2_REQUIRED = SchemaBuilder.record("Item").namespace("t").fields()
            .requiredString("id").requiredInt("size").endRecord();
    private static final Schema V3_DROPS_ID = SchemaBuilder.record("Item").namespace("t").fields()
            .name("size").type().intType().intDefault(1).endRecord();

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

    @Test
    void registrationIsIdempotentAndIdsAreSharedAcrossSubjects() {
        int id = registry.register("a-value", V1);
        assertThat(registry.register("a-value", V1)).isEqualTo(id);
        assertThat(registry.register("b-value", V1)).isEqualTo(id);
        assertThat(registry.register("a-value", V2_WITH_DEFAULT)).isEqualTo(id + 1);

        assertThat(registry.latest("a-value")).isEqualTo(new RegisteredSchema("a-value", 2, id + 1, V2_WITH_DEFAULT));
        assertThat(registry.latest("b-value").version()).isEqualTo(1);
        assertThat(registry.schemaById(id)).isEqualTo(V1);
        assertThat(registry.lookupId("a-value", V1)).isEqualTo(id);
        assertThat(registry.subjects()).containsExactly("a-value", "b-value");
    }

    @Test
    void unknownThingsAre404WithConfluentErrorCodes() {
        registry.register("a-value", V1);
        assertThatThrownBy(() -> registry.schemaById(42))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.isNotFound()).isTrue();
                    assertThat(e.errorCode()).isEqualTo(40403);
                })
                .hasMessageContaining("schema id 42");
        assertThatThrownBy(() -> registry.latest("nope-value"))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40401));
        assertThatThrownBy(() -> registry.lookupId("a-value", V2_WITH_DEFAULT))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40403));
    }

    @Test
    void backwardRejectsANewRequiredFieldAndNamesIt() {
        registry.register("a-value", V1);
        assertThatThrownBy(() -> registry.register("a-value", V2_REQUIRED))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.httpStatus()).isEqualTo(409))
                .hasMessageContaining("READER_FIELD_MISSING_DEFAULT_VALUE at field 'size'");
    }

    @Test
    void transitiveChecksEveryEarlierVersionNotJustTheLatest() {
        // V1 -> V2 (adds size with default) -> V3 (drops id): V3 reads V2 data and V1 data under BACKWARD,
        // because dropping a field is fine for a reader. FORWARD_TRANSITIVE must refuse it: V1 readers need id.
        registry.setCompatibility("a-value", CompatibilityLevel.FORWARD_TRANSITIVE);
        registry.register("a-value", V1);
        registry.register("a-value", V2_WITH_DEFAULT);
        assertThat(registry.testCompatibility("a-value", V3_DROPS_ID).compatible()).isFalse();
        assertThat(registry.testCompatibility("a-value", V3_DROPS_ID).messages())
                .anySatisfy(m -> assertThat(m).startsWith("version 1 reader vs new writer"));

        registry.setCompatibility("a-value", CompatibilityLevel.BACKWARD_TRANSITIVE);
        assertThat(registry.testCompatibility("a-value", V3_DROPS_ID).compatible()).isTrue();
    }

    @Test
    void noneAcceptsAnything() {
        registry.setGlobalCompatibility(CompatibilityLevel.NONE);
        registry.register("a-value", V1);
        assertThat(registry.register("a-value", V2_REQUIRED)).isPositive();
        assertThat(registry.compatibility("a-value")).isEqualTo(CompatibilityLevel.NONE);
    }

    @Test
    void scopesAreSharedByNameAndDroppable() {
        InMemorySchemaRegistryClient first = InMemorySchemaRegistryClient.scoped("scope-test");
        first.register("x-value", V1);
        assertThat(InMemorySchemaRegistryClient.scoped("scope-test")).isSameAs(first);
        InMemorySchemaRegistryClient.dropScope("scope-test");
        assertThat(InMemorySchemaRegistryClient.scoped("scope-test").subjects()).isEmpty();
        InMemorySchemaRegistryClient.dropScope("scope-test");
    }

    @Test
    void fieldPathsNameNestedFields() {
        Schema turn = SchemaBuilder.record("Turn").fields().requiredString("role").endRecord();
        Schema outer = SchemaBuilder.record("Outer").fields()
                .name("turns").type().array().items(turn).noDefault()
                .name("note").type().unionOf().nullType().and().stringType().endUnion().nullDefault()
                .endRecord();
        assertThat(InMemorySchemaRegistryClient.fieldPath(outer, "/fields/0/type/items/fields/0/type"))
                .isEqualTo("field 'turns[].role' /fields/0/type/items/fields/0/type");
        assertThat(InMemorySchemaRegistryClient.fieldPath(outer, "/fields/1/type/1"))
                .isEqualTo("field 'note' /fields/1/type/1");
        assertThat(InMemorySchemaRegistryClient.fieldPath(outer, "/")).isEqualTo("the record");
    }
}
