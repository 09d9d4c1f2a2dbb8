package io.streamrlhf.models.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.streamrlhf.models.engine.ModelRuntime;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code rlhf model inspect} reports: PyTorch's next-token log-probs, token strings, and refusals. */
class ModelInspectionTest {

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    @Test
    void givesPyTorchsNextTokenLogProbsForGivenIds() throws IOException {
        JsonNode expected = HfForwardTest.expected("qwen2");
        Path dir = HfForwardTest.regenerate(expected, tmp.resolve("qwen2"));
        int[] row = HfForwardTest.ids(expected.get("tokens").asText())[0];

        ModelInspection inspection = ModelInspection.ofIds(dir, row);

        assertThat(inspection.ids()).containsExactly(row);
        assertThat(inspection.tokens()).as("the folder has no tokenizer.json").isNull();
        assertThat(inspection.reward()).isNull();
        JsonNode logprobs = expected.get("score").get("logprobs").get(0);
        assertThat(inspection.logprobs()).hasSize(row.length - 1);
        for (int i = 0; i < row.length - 1; i++) {
            assertThat(inspection.logprobs()[i]).as("log-prob of ids[%d]", i + 1)
                    .isCloseTo(logprobs.get(i).asDouble(), within(1e-4));
        }
        JsonNode json = inspection.json();
        assertThat(json.get("ids")).hasSize(row.length);
        assertThat(json.get("tokens").isNull()).isTrue();
        assertThat(json.get("reward").isNull()).isTrue();
        assertThat(json.get("logprobs").get(0).asDouble()).isCloseTo(logprobs.get(0).asDouble(), within(1e-4));
        assertThat(inspection.table()).hasSize(row.length + 1);
    }

    @Test
    void tokenisesTextWithTheFoldersTokenizer() throws IOException {
        JsonNode expected = HfForwardTest.expected("qwen2");
        Path dir = HfForwardTest.regenerate(expected, tmp.resolve("qwen2-text"));
        try (InputStream in = getClass().getResourceAsStream("/tokenizer/tokenizer.json")) {
            Files.copy(in, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        }
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"<eos>\", \"pad_token\": \"<pad>\"}");

        ModelInspection text = ModelInspection.ofText(dir, "the sea is calm");

        assertThat(text.ids()).containsExactly(6, 7, 8, 9);
        assertThat(text.tokens()).containsExactly("the", "sea", "is", "calm");
        ModelInspection ids = ModelInspection.ofIds(dir, new int[] {6, 7, 8, 9});
        assertThat(ids.tokens()).containsExactly("the", "sea", "is", "calm");
        assertThat(text.logprobs()).containsExactly(ids.logprobs());
        assertThat(text.table().get(2)).contains("'sea'");
    }

    @Test
    void givesARewardFoldersRewardOfTheWholeSequenceAndNoLogProbs() throws IOException {
        JsonNode expected = HfForwardTest.expected("llama");
        Path causal = HfForwardTest.regenerate(expected, tmp.resolve("llama"));
        int[] row = HfForwardTest.ids(expected.get("tokens").asText())[0];
        Path dir = HfRewardModelTest.rewardFrom(causal, 3, null, tmp.resolve("llama-rm"));

        ModelInspection inspection = ModelInspection.ofIds(dir, row);
        ModelInspection lm = ModelInspection.ofIds(causal, row);

        assertThat(inspection.ids()).containsExactly(row);
        assertThat(inspection.logprobs()).as("a reward model has no next-token distribution").isEmpty();
        assertThat(inspection.reward()).isNotNull();
        try (HfCausalLm model = HfCausalLm.load(causal);
             ai.djl.ndarray.NDManager step = model.manager().newSubManager()) {
            float logit = model.logits(step.create(row, new ai.djl.ndarray.types.Shape(1, row.length)))
                    .getFloat(0, row.length - 1, 3);
            assertThat(inspection.reward()).as("the reward is the head's score at the last token")
                    .isCloseTo(logit, within(1e-5));
        }
        assertThat(lm.reward()).isNull();
        JsonNode json = inspection.json();
        assertThat(json.get("reward").asDouble()).isEqualTo(inspection.reward());
        assertThat(json.get("logprobs")).isEmpty();
        assertThat(inspection.table()).hasSize(row.length + 2);
        assertThat(inspection.table().get(row.length + 1)).startsWith("reward ");
    }

    @Test
    void refusesIdsBeyondTheEmbeddingNamingTheConfig() throws IOException {
        JsonNode expected = HfForwardTest.expected("qwen2");
        Path dir = HfForwardTest.regenerate(expected, tmp.resolve("qwen2-refuse"));
        assertThatThrownBy(() -> ModelInspection.ofIds(dir, new int[] {5, 128}))
                .isInstanceOf(HfFormatException.class)
                .hasMessageContaining("config.json")
                .hasMessageContaining("token id 128 (position 1) is beyond the embedding: vocab_size is 128");
        assertThatThrownBy(() -> ModelInspection.ofIds(dir, new int[0])).hasMessageContaining("no tokens");
    }
}
