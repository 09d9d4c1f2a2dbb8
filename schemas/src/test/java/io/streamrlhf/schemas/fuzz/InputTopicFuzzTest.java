package io.streamrlhf.schemas.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.schemas.registry.InMemorySchemaRegistryClient;
import io.streamrlhf.schemas.serde.AvroSerdeException;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.Tuple;
import org.apache.avro.specific.SpecificRecord;

/**
 * Fuzzes the value deserializer of every input topic with 10,000 damaged records a run (fixed seed): bit flips,
 * truncations, wrong and unknown schema ids, another contract's records, random bodies and hostile lengths (huge and
 * negative array, map and string sizes). Each must either decode or fail with {@link AvroSerdeException}, the
 * documented decode error every consumer routes to the topic's DLQ; nothing else may escape, and nothing may hang.
 * The damage is {@link RecordDamage}'s, which {@code rlhf bench fuzz} runs at length through a broker.
 */
class InputTopicFuzzTest {
    private static final Topics TOPICS = Topics.builder().prefix("fuzz.")
            .registryClient(new InMemorySchemaRegistryClient()).build();
    private static final RecordDamage DAMAGE = RecordDamage.of(TOPICS);

    @Property(tries = 10_000, seed = "20261207", shrinking = ShrinkingMode.OFF)
    void everyDamagedRecordDecodesOrFailsWithTheDecodeError(@ForAll("damaged") Tuple.Tuple3<Integer,
            RecordDamage.Kind, byte[]> input) {
        TopicSpec<String, ? extends SpecificRecord> topic = DAMAGE.topics().get(input.get1());
        Object decoded;
        try {
            decoded = topic.valueDeserializer().deserialize(topic.name(), input.get3());
        } catch (AvroSerdeException e) {
            assertThat(e.getMessage()).as("the error names the topic").contains(topic.name());
            Statistics.collect(input.get2(), "decode error");
            return;
        }
        Statistics.collect(input.get2(), "decoded");
        // Decoded: it is a record of the topic's contract (validation of its values is the consumer's business).
        Object sample = topic.valueDeserializer().deserialize(topic.name(), DAMAGE.valid(input.get1()));
        assertThat(decoded).isInstanceOf(sample.getClass());
    }

    @Provide
    Arbitrary<Tuple.Tuple3<Integer, RecordDamage.Kind, byte[]>> damaged() {
        return Arbitraries.integers().between(0, DAMAGE.topics().size() - 1)
                .flatMap(topic -> Arbitraries.of(RecordDamage.Kind.class)
                        .flatMap(kind -> Arbitraries.longs().map(seed ->
                                Tuple.of(topic, kind, DAMAGE.damage(topic, kind, new Random(seed))))));
    }
}
