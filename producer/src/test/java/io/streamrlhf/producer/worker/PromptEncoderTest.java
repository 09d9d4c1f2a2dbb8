package io.streamrlhf.producer.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.models.world.WorldPrompt;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Role;
import java.util.List;
import org.junit.jupiter.api.Test;

class PromptEncoderTest {

    private final Vocabulary vocabulary = Vocabulary.standard();

    @Test
    void encodesLikeTheWorldDoes() {
        PromptEncoder encoder = new WorldPromptEncoder(vocabulary, 64, 16);
        WorldPrompt prompt = vocabulary.topics().isEmpty() ? null
                : new WorldPrompt(vocabulary.topics().get(0).name(),
                        Vocabulary.split("write about the " + vocabulary.topics().get(0).name() + " :"));
        assertThat(encoder.encode(prompt.text())).containsExactly(vocabulary.encodePrompt(prompt));
    }

    @Test
    void rendersOneTurnAsItsContentAndLongerConversationsByRole() {
        assertThat(PromptEncoder.render(List.of(new ConversationTurn(Role.USER, "hello")))).isEqualTo("hello");
        assertThat(PromptEncoder.render(List.of(new ConversationTurn(Role.USER, "hi"),
                new ConversationTurn(Role.ASSISTANT, "yes"), new ConversationTurn(Role.USER, "go"))))
                .isEqualTo("user: hi\nassistant: yes\nuser: go");
        assertThatThrownBy(() -> PromptEncoder.render(List.of())).hasMessageContaining("empty");
    }

    @Test
    void truncatesFromTheFrontKeepingBosAndRoomToAnswer() {
        PromptEncoder encoder = new WorldPromptEncoder(vocabulary, 32, 8);
        int[] ids = encoder.encode("the ".repeat(100) + "end");
        assertThat(ids).hasSize(24);
        assertThat(ids[0]).isEqualTo(vocabulary.bosId());
        assertThat(ids[23]).isEqualTo(vocabulary.id("end"));
        assertThat(encoder.maxPromptTokens()).isEqualTo(24);
    }

    @Test
    void decodesUpToEos() {
        PromptEncoder encoder = new WorldPromptEncoder(vocabulary, 32, 8);
        int the = vocabulary.id("the");
        assertThat(encoder.decode(new int[] {the, the, vocabulary.eosId(), the})).isEqualTo("the the");
    }
}
