package io.streamrlhf.producer.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.avro.Role;
import io.streamrlhf.schemas.registry.InMemorySchemaRegistryClient;
import io.streamrlhf.schemas.registry.SchemaRegistryClient;
import io.streamrlhf.schemas.registry.SchemaRegistryException;
import io.streamrlhf.schemas.serde.AvroSerdeConfig;
import io.streamrlhf.schemas.topics.Topics;
import java.lang.reflect.Proxy;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class PromptReaderTest {

    private static Prompt prompt(List<ConversationTurn> conversation, int samples) {
        return Prompt.newBuilder().setPromptId("p-1").setConversation(conversation).setSamplesPerPrompt(samples)
                .setCreatedAt(Instant.EPOCH).build();
    }

    @Test
    void acceptsAConversationAskingForOneToTheMostSamples() {
        List<ConversationTurn> hello = List.of(new ConversationTurn(Role.USER, "hello"));
        assertThatCode(() -> PromptReader.validate(prompt(hello, 1))).doesNotThrowAnyException();
        assertThatCode(() -> PromptReader.validate(prompt(hello, PolicyWorker.MAX_SAMPLES_PER_PROMPT)))
                .doesNotThrowAnyException();
    }

    @Test
    void refusesAnEmptyConversationAndSampleCountsOutOfRange() {
        List<ConversationTurn> hello = List.of(new ConversationTurn(Role.USER, "hello"));
        assertThatThrownBy(() -> PromptReader.validate(prompt(List.of(), 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("prompt p-1 has an empty conversation");
        assertThatThrownBy(() -> PromptReader.validate(prompt(hello, 0)))
                .hasMessage("prompt p-1 asks for 0 samples; expected 1..1024");
        assertThatThrownBy(() -> PromptReader.validate(prompt(hello, 1025)))
                .hasMessage("prompt p-1 asks for 1025 samples; expected 1..1024");
    }

    @Test
    void aTombstoneComesBackWithItsPositionAndError() {
        byte[] key = {1, 2};
        PolledPrompt read = new PromptReader(null).read(new ConsumerRecord<>("prompts", 3, 42L, key, null));

        assertThat(read.prompt()).isNull();
        assertThat(read.error()).hasMessageContaining("tombstone");
        assertThat(read.partition()).isEqualTo(new TopicPartition("prompts", 3));
        assertThat(read.offset()).isEqualTo(42L);
        assertThat(read.key()).isSameAs(key);
        assertThat(read.rows()).isZero();
    }

    @Test
    void aRegistryOutageIsReadAgainWhileAnUnknownSchemaIdIsDeadLettered() {
        InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
        byte[] good = Topics.builder().registryClient(registry).build().prompts().valueSerializer()
                .serialize("rlhf.prompts", prompt(List.of(new ConversationTurn(Role.USER, "hello")), 1));
        SchemaRegistryClient down = (SchemaRegistryClient) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {SchemaRegistryClient.class}, (proxy, method, args) -> {
                    if (method.getName().equals("schemaById")) {
                        throw new SchemaRegistryException("Schema registry unreachable at http://registry:8081",
                                SchemaRegistryException.UNREACHABLE, SchemaRegistryException.UNREACHABLE);
                    }
                    return method.invoke(registry, args);
                });
        Topics outage = Topics.builder().registryClient(down).config(Map.of(AvroSerdeConfig.RETRY_MAX_MS, 200L))
                .build();

        assertThat(new PromptReader(outage.prompts()).read(new ConsumerRecord<>("rlhf.prompts", 0, 5, null, good)))
                .as("not dead-lettered: read again").isNull();
        byte[] unknownId = good.clone();
        unknownId[4] = 99;
        PolledPrompt bad = new PromptReader(Topics.builder().registryClient(registry).build().prompts())
                .read(new ConsumerRecord<>("rlhf.prompts", 0, 6, null, unknownId));
        assertThat(bad.error()).hasMessageContaining("unknown schema id 99");
    }
}
