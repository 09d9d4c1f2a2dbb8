package io.streamrlhf.producer.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Role;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link HfPromptEncoder} built from what a Hugging Face policy checkpoint carries: conversations go through the
 * model's chat template, responses decode up to their first stop id, ids past the tokenizer decode to nothing, and a
 * prompt the context cannot hold is refused.
 */
class HfPromptEncoderTest {

    @TempDir
    static Path tmp;

    private static Checkpoint checkpoint;

    @BeforeAll
    static void policy() throws Exception {
        ModelRuntime.init(1);
        TinyHfModels.Architecture arch = TinyHfModels.Architecture.QWEN2;
        Path dir = TinyHfModels.writeTokenizer(TinyHfModels.write(tmp.resolve("qwen2"), arch, 1),
                arch.config().vocabSize());
        try (HfPolicy policy = HfPolicy.load(dir, 0)) {
            checkpoint = policy.toCheckpoint(Map.of(), null);
        }
    }

    @Test
    void theCheckpointsPolicyGetsTheHuggingFaceEncoder() {
        try (PromptEncoder encoder = PromptEncoder.forPolicy(checkpoint, 64, 8)) {
            assertThat(encoder).isInstanceOf(HfPromptEncoder.class);
            assertThat(encoder.eosId()).isEqualTo(2);
            assertThat(encoder.padId()).isEqualTo(0);
            assertThat(encoder.stopIds()).contains(0, 2);
            assertThat(encoder.maxPromptTokens()).isEqualTo(56);
        }
    }

    @Test
    void conversationsGoThroughTheChatTemplate() {
        try (HfPromptEncoder encoder = HfPromptEncoder.fromCheckpoint(checkpoint, 64, 8)) {
            List<ConversationTurn> turns = List.of(new ConversationTurn(Role.SYSTEM, "be brief"),
                    new ConversationTurn(Role.USER, "hi"));
            int[] ids = encoder.encode(turns, PromptEncoder.render(turns));
            assertThat(encoder.tokenizer().decode(ids, false))
                    .isEqualTo("<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
                            + "<|im_start|>assistant\n");
            assertThat(encoder.encode("hi")).isEqualTo(encoder.encode(List.of(new ConversationTurn(Role.USER, "hi")),
                    "hi"));
        }
    }

    @Test
    void responsesDecodeUpToTheirFirstStopIdAndIdsPastTheTokenizerDecodeToNothing() {
        try (HfPromptEncoder encoder = HfPromptEncoder.fromCheckpoint(checkpoint, 64, 8)) {
            int[] ok = encoder.tokenizer().encode("ok");
            int past = encoder.tokenizer().vocabSize() + 3;  // the tiny embedding is 128 wide, the tokenizer less
            assertThat(past).isLessThan(128);
            assertThat(encoder.decode(new int[] {ok[0], past, ok[1], 2, ok[0]})).isEqualTo("ok");
            assertThat(encoder.decode(new int[] {ok[0], 0, ok[1]})).isEqualTo("o");
        }
    }

    @Test
    void aPromptTheContextCannotHoldIsRefused() {
        try (HfPromptEncoder encoder = HfPromptEncoder.fromCheckpoint(checkpoint, 32, 8)) {
            assertThatThrownBy(() -> encoder.encode("a prompt far longer than this tiny context can hold"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("leaves 24 for a prompt");
        }
    }
}
