package io.streamrlhf.models.sft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.models.hf.tokenizer.ChatMessage;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link JsonlCorpus}: the three line forms read into conditioned turns and learned text; every fault refused
 * naming {@code FILE:LINE} and what is wrong; encoding through a real (character-level) tokenizer with ChatML gives
 * the rendered prompt, then the response and the EOS, learned from the prompt's end, cut or skipped at the context.
 */
class JsonlCorpusTest {

    /** ChatML's generation prompt for one user turn "hi", as the tiny tokenizer's template renders it. */
    private static final String PROMPT_HI = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n";
    /** Its tokens: the three special tokens are one id each, every other character one id. */
    private static final int PROMPT_HI_TOKENS = 3 + "user\nhi\nassistant\n".length();

    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    private static HfTokenizer tokenizer;

    @BeforeAll
    static void loadTokenizer() throws Exception {
        tokenizer = HfTokenizer.load(TinyHfModels.writeTokenizer(shared.resolve("tok"), 128));
    }

    @AfterAll
    static void closeTokenizer() {
        tokenizer.close();
    }

    private Path write(String... lines) throws Exception {
        Path file = tmp.resolve("corpus.jsonl");
        Files.writeString(file, String.join("\n", lines) + "\n");
        return file;
    }

    @Test
    void readsEachFormIntoConditionedTurnsAndLearnedText() throws Exception {
        Path file = write(
                "{\"prompt\": \"hi\", \"response\": \"ok\", \"id\": 7}",
                "",
                "{\"messages\": [{\"role\": \"system\", \"content\": \"\"}, {\"role\": \"user\", \"content\": \"a\"},"
                        + " {\"role\": \"assistant\", \"content\": \"b\"}, {\"role\": \"user\", \"content\": \"c\"},"
                        + " {\"role\": \"assistant\", \"content\": \"d\"}]}",
                "   ",
                "{\"text\": \"plain text\"}");

        JsonlCorpus corpus = JsonlCorpus.read(file);

        assertThat(corpus.size()).isEqualTo(3);
        JsonlCorpus.Example pair = corpus.examples().get(0);
        assertThat(pair.line()).isEqualTo(1);
        assertThat(pair.form()).isEqualTo(JsonlCorpus.Form.PROMPT_RESPONSE);
        assertThat(pair.context()).containsExactly(new ChatMessage("user", "hi"));
        assertThat(pair.learned()).isEqualTo("ok");
        JsonlCorpus.Example chat = corpus.examples().get(1);
        assertThat(chat.line()).as("blank lines are counted, not read").isEqualTo(3);
        assertThat(chat.form()).isEqualTo(JsonlCorpus.Form.MESSAGES);
        assertThat(chat.context()).containsExactly(new ChatMessage("system", ""), new ChatMessage("user", "a"),
                new ChatMessage("assistant", "b"), new ChatMessage("user", "c"));
        assertThat(chat.learned()).isEqualTo("d");
        JsonlCorpus.Example text = corpus.examples().get(2);
        assertThat(text.line()).isEqualTo(5);
        assertThat(text.form()).isEqualTo(JsonlCorpus.Form.TEXT);
        assertThat(text.context()).isEmpty();
        assertThat(text.learned()).isEqualTo("plain text");
    }

    static Stream<Arguments> faults() {
        String ok = "{\"text\": \"fine\"}";
        return Stream.of(
                Arguments.of(List.of(ok, "{\"prompt\": \"a\", \"response\": }"), 2, "not valid JSON"),
                Arguments.of(List.of("{\"text\": \"a\"} {\"text\": \"b\"}"), 1, "not valid JSON"),
                Arguments.of(List.of("{\"text\": \"a\", \"text\": \"b\"}"), 1, "Duplicate field 'text'"),
                Arguments.of(List.of(ok, ok, "[\"a\"]"), 3, "expected a JSON object, got an array"),
                Arguments.of(List.of("{\"prompt\": \"a\"}"), 1, "missing field \"response\""),
                Arguments.of(List.of(ok, "{\"response\": \"a\"}"), 2, "missing field \"prompt\""),
                Arguments.of(List.of("{\"prompt\": \"a\", \"response\": \"  \"}"), 1, "field \"response\" is empty"),
                Arguments.of(List.of("{\"prompt\": \"\", \"response\": \"b\"}"), 1, "field \"prompt\" is empty"),
                Arguments.of(List.of("{\"text\": \"\"}"), 1, "field \"text\" is empty"),
                Arguments.of(List.of("{\"prompt\": \"a\", \"response\": 5}"), 1,
                        "field \"response\" must be a string, got a number"),
                Arguments.of(List.of(ok, "", "{\"chosen\": \"a\", \"rejected\": \"b\"}"), 3,
                        "has none of the fields \"prompt\" and \"response\", \"messages\" or \"text\" (it has chosen, "
                                + "rejected)"),
                Arguments.of(List.of("{\"text\": \"a\", \"prompt\": \"b\", \"response\": \"c\"}"), 1,
                        "mixes the forms"),
                Arguments.of(List.of("{\"messages\": \"hi\"}"), 1, "field \"messages\" must be an array"),
                Arguments.of(List.of("{\"messages\": [{\"role\": \"assistant\", \"content\": \"a\"}]}"), 1,
                        "field \"messages\" has 1 turn"),
                Arguments.of(List.of("{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, "
                        + "{\"role\": \"user\", \"content\": \"b\"}]}"), 1,
                        "the last turn of \"messages\" (messages[1]) has role \"user\""),
                Arguments.of(List.of("{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, "
                        + "{\"role\": \"assistant\"}]}"), 1, "messages[1]: missing field \"content\""),
                Arguments.of(List.of("{\"messages\": [{\"role\": \"user\", \"content\": [\"a\"]}, "
                        + "{\"role\": \"assistant\", \"content\": \"b\"}]}"), 1,
                        "messages[0].content must be a string, got an array"),
                Arguments.of(List.of("{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, "
                        + "{\"role\": \"assistant\", \"content\": \"\"}]}"), 1, "messages[1].content is empty"),
                Arguments.of(List.of("{\"messages\": [\"a\", {\"role\": \"assistant\", \"content\": \"b\"}]}"), 1,
                        "messages[0] must be an object"));
    }

    @ParameterizedTest
    @MethodSource("faults")
    void refusesABadLineNamingFileLineAndFault(List<String> lines, int line, String fault) throws Exception {
        Path file = write(lines.toArray(String[]::new));

        assertThatThrownBy(() -> JsonlCorpus.read(file)).isInstanceOf(CorpusFormatException.class)
                .hasMessageStartingWith(file + ":" + line + ": ").hasMessageContaining(fault)
                .satisfies(e -> assertThat(((CorpusFormatException) e).line()).isEqualTo(line));
    }

    @Test
    void refusesAMissingEmptyOrNonUtf8File() throws Exception {
        Path missing = tmp.resolve("none.jsonl");
        assertThatThrownBy(() -> JsonlCorpus.read(missing)).isInstanceOf(CorpusFormatException.class)
                .hasMessage(missing + ": does not exist");

        Path empty = write("", "  ");
        assertThatThrownBy(() -> JsonlCorpus.read(empty)).isInstanceOf(CorpusFormatException.class)
                .hasMessageStartingWith(empty + ": holds no examples");

        Path latin1 = tmp.resolve("latin1.jsonl");
        Files.write(latin1, "{\"text\": \"a\"}\n{\"text\": \"caf\u00e9\"}\n".getBytes(StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> JsonlCorpus.read(latin1)).isInstanceOf(CorpusFormatException.class)
                .hasMessage(latin1 + ":2: the line is not UTF-8 text");
    }

    @Test
    void encodesTheRenderedPromptThenTheResponseAndEosLearnedFromThePromptsEnd() throws Exception {
        Path file = write("{\"prompt\": \"hi\", \"response\": \"ok\"}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", "
                        + "\"content\": \"ok\"}]}",
                "{\"text\": \"hi ok\"}");

        EncodedCorpus encoded = JsonlCorpus.read(file).encode(tokenizer, 64);

        assertThat(encoded.size()).isEqualTo(3);
        assertThat(encoded.truncated()).isZero();
        assertThat(encoded.skippedLines()).isEmpty();
        for (EncodedCorpus.Sequence chat : encoded.sequences().subList(0, 2)) {
            assertThat(tokenizer.decode(chat.ids(), false)).isEqualTo(PROMPT_HI + "ok<|im_end|>");
            assertThat(chat.learnedFrom()).isEqualTo(PROMPT_HI_TOKENS);
            int[] learned = Arrays.copyOfRange(chat.ids(), chat.learnedFrom(), chat.ids().length);
            assertThat(learned).containsExactly(tokenizer.id("o"), tokenizer.id("k"), tokenizer.eosId());
        }
        assertThat(encoded.sequences().get(0).ids()).as("the same example in its two forms")
                .isEqualTo(encoded.sequences().get(1).ids());
        EncodedCorpus.Sequence text = encoded.sequences().get(2);
        assertThat(tokenizer.decode(text.ids(), false)).isEqualTo("hi ok<|im_end|>");
        assertThat(text.learnedFrom()).as("every token after the first").isEqualTo(1);
        assertThat(text.learnedTokens()).isEqualTo(5);
        assertThat(encoded.learnedTokens()).isEqualTo(3 + 3 + 5);
        assertThat(encoded.summary()).startsWith("3 examples from " + file + " (11 learned tokens, context 64)");
    }

    @Test
    void cutsAtTheContextAndSkipsWhatLeavesNothingToLearnWithASummary() throws Exception {
        Path file = write("{\"prompt\": \"hi\", \"response\": \"okay\"}",
                "{\"text\": \"a much longer text than that\"}");
        JsonlCorpus corpus = JsonlCorpus.read(file);

        EncodedCorpus cut = corpus.encode(tokenizer, PROMPT_HI_TOKENS + 2);
        assertThat(cut.sequences()).hasSize(2);
        assertThat(cut.truncated()).isEqualTo(2);
        assertThat(cut.sequences().get(0).ids()).hasSize(PROMPT_HI_TOKENS + 2);
        assertThat(cut.sequences().get(0).learnedTokens()).isEqualTo(2);

        EncodedCorpus skipped = corpus.encode(tokenizer, PROMPT_HI_TOKENS);
        assertThat(skipped.sequences()).extracting(EncodedCorpus.Sequence::line).containsExactly(2);
        assertThat(skipped.skippedLines()).containsExactly(1);
        assertThat(skipped.summary()).contains("1 skipped, their prompt filling the context (line 1)");

        Path prompts = write("{\"prompt\": \"hi\", \"response\": \"okay\"}");
        assertThatThrownBy(() -> JsonlCorpus.read(prompts).encode(tokenizer, 10))
                .isInstanceOf(CorpusFormatException.class)
                .hasMessage(prompts + ": no example fits the context of 10 tokens: every prompt fills it");
    }

    @Test
    void packsBatchesWithTheLossOnLearnedTokensOnly() throws Exception {
        Path file = write("{\"prompt\": \"hi\", \"response\": \"ok\"}", "{\"text\": \"abc\"}");
        EncodedCorpus encoded = JsonlCorpus.read(file).encode(tokenizer, 64);

        SftBatch batch = SftBatch.of(encoded.sequences(), tokenizer.padId(), 64);

        int t = PROMPT_HI_TOKENS + 3;
        assertThat(batch.rows()).isEqualTo(2);
        assertThat(batch.length()).isEqualTo(t);
        float[] chatMask = Arrays.copyOfRange(batch.lossMask(), 0, t - 1);
        float[] textMask = Arrays.copyOfRange(batch.lossMask(), t - 1, 2 * (t - 1));
        for (int j = 0; j < t - 1; j++) {
            assertThat(chatMask[j]).as("chat target %d", j + 1).isEqualTo(j + 1 >= PROMPT_HI_TOKENS ? 1f : 0f);
            assertThat(textMask[j]).as("text target %d", j + 1).isEqualTo(j + 1 < 4 ? 1f : 0f);
        }
        for (int j = 4; j < t; j++) {
            assertThat(batch.tokens()[t + j]).isEqualTo(tokenizer.padId());
            assertThat(batch.attention()[t + j]).isZero();
        }
        assertThat(batch.targetCount()).isEqualTo(3 + 3);
    }
}
