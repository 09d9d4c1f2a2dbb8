package io.streamrlhf.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.schemas.avro.MetricEvent;
import io.streamrlhf.schemas.avro.ModelRef;
import io.streamrlhf.schemas.registry.ForwardingSchemaRegistryClient;
import io.streamrlhf.schemas.registry.InMemorySchemaRegistryClient;
import io.streamrlhf.schemas.registry.SchemaRegistryClient;
import java.time.Instant;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

/**
 * The exact bytes the serializer writes, against hand-computed expectations. Confluent's own deserializer is not
 * reachable from these builds (not in Maven Central), so this byte-level check of Confluent's documented wire
 * format (magic 0x00, big-endian int32 schema id, Avro binary) stands in for "readable by Confluent's
 * deserializer".
 */
class WireLayoutTest {
    private static final String TOPIC = "wire";

    /** Registers every schema with one fixed id, so the id bytes are known and not all zero. */
    private static SchemaRegistryClient registryAssigning(int id) {
        InMemorySchemaRegistryClient delegate = new InMemorySchemaRegistryClient();
        return new ForwardingSchemaRegistryClient(delegate) {
            @Override
            public int register(String subject, Schema schema) {
                delegate.register(subject, schema);
                return id;
            }
        };
    }

    @Test
    void smallRecordIsMagicByteBigEndianIdThenAvroBinary() {
        SchemaRegistryClient registry = registryAssigning(0x01020304);
        var serializer = new SpecificAvroSerializer<ModelRef>(registry, Map.of(), false);

        byte[] bytes = serializer.serialize(TOPIC, new ModelRef("rm", 300L));

        // 0x00                 magic byte
        // 0x01 0x02 0x03 0x04  schema id 16909060, big-endian
        // 0x04 'r' 'm'         string: zig-zag varint length 2 -> 4, then UTF-8
        // 0xD8 0x04            long 300: zig-zag 600 = 0b100_1011000 -> 0x58|0x80, 0x04
        assertThat(bytes).containsExactly(0x00, 0x01, 0x02, 0x03, 0x04, 0x04, 'r', 'm', 0xD8, 0x04);
    }

    @Test
    void mapsDoublesAndTimestampsFollowTheAvroSpec() {
        SchemaRegistryClient registry = registryAssigning(7);
        var serializer = new SpecificAvroSerializer<MetricEvent>(registry, Map.of(), false);
        MetricEvent event = new MetricEvent("l", "x", 1.0, -1L, Map.of(), Instant.ofEpochMilli(1000));

        byte[] bytes = serializer.serialize(TOPIC, event);

        assertThat(bytes).containsExactly(
                0x00, 0x00, 0x00, 0x00, 0x07,            // magic, id 7
                0x02, 'l',                               // component "l"
                0x02, 'x',                               // name "x"
                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF0, 0x3F, // double 1.0, IEEE-754 little-endian
                0x01,                                    // step -1: zig-zag 1
                0x00,                                    // empty map: a zero-length block
                0xD0, 0x0F);                             // timestamp-millis 1000: zig-zag 2000 = 0x7D0
    }

    @Test
    void genericAndSpecificRecordsOfOneSchemaGiveIdenticalBytes() {
        SchemaRegistryClient registry = new InMemorySchemaRegistryClient();
        byte[] specific = new SpecificAvroSerializer<ModelRef>(registry, Map.of(), false)
                .serialize(TOPIC, new ModelRef("rm-1", 12L));
        GenericRecord generic = new GenericData.Record(ModelRef.getClassSchema());
        generic.put("name", "rm-1");
        generic.put("version", 12L);
        byte[] fromGeneric = new GenericAvroSerializer(registry, Map.of(), false).serialize(TOPIC, generic);

        assertThat(fromGeneric).isEqualTo(specific);
        assertThat(WireFormat.schemaIdOf(specific)).isEqualTo(registry.latest(TOPIC + "-value").id());
    }

    @Test
    void nullIsATombstoneBothWays() {
        SchemaRegistryClient registry = new InMemorySchemaRegistryClient();
        assertThat(new SpecificAvroSerializer<ModelRef>(registry, Map.of(), false).serialize(TOPIC, null)).isNull();
        assertThat(new SpecificAvroDeserializer<>(ModelRef.class, registry, Map.of(), false).deserialize(TOPIC,
                (byte[]) null)).isNull();
    }
}
