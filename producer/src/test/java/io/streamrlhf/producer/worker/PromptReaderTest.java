package io.streamrlhf.producer.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.avro.Role;
import java.time.Instant;
import java.util.List;
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
}
