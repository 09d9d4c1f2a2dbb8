package io.streamrlhf.producer.feed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.avro.Role;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptFilesTest {

    @TempDir
    Path dir;

    @Test
    void readsEveryJsonlShapeWithDefaults() throws IOException {
        Path file = write("prompts.jsonl",
                "{\"prompt_id\": \"a\", \"conversation\": [{\"role\": \"user\", \"content\": \"write about the ocean :\"}],"
                        + " \"category\": \"ocean\", \"samples_per_prompt\": 2, \"metadata\": {\"k\": \"v\"}}",
                "",
                "{\"prompt\": \"describe the forest :\"}",
                "{\"conversation_input\": [{\"role\": \"system\", \"content\": \"be kind\"},"
                        + " {\"role\": \"user\", \"content\": \"hi\"}]}");
        PromptBatch batch = PromptFiles.readJsonl(file, 4);
        assertThat(batch.problems()).isEmpty();
        List<Prompt> prompts = batch.toSend(false);
        assertThat(prompts).hasSize(3);
        assertThat(prompts.get(0).getPromptId()).isEqualTo("a");
        assertThat(prompts.get(0).getSamplesPerPrompt()).isEqualTo(2);
        assertThat(prompts.get(0).getCategory()).isEqualTo("ocean");
        assertThat(prompts.get(0).getMetadata()).containsEntry("k", "v");
        assertThat(prompts.get(1).getSamplesPerPrompt()).isEqualTo(4);
        assertThat(prompts.get(1).getConversation()).hasSize(1);
        assertThat(prompts.get(1).getConversation().get(0).getRole()).isEqualTo(Role.USER);
        assertThat(prompts.get(2).getConversation().get(0).getRole()).isEqualTo(Role.SYSTEM);
        assertThat(prompts.get(2).getSource()).isEqualTo("jsonl:prompts.jsonl");
        // default ids are derived from file, line and content: stable across reads
        assertThat(PromptFiles.readJsonl(file, 4).prompts().get(1).getPromptId())
                .isEqualTo(prompts.get(1).getPromptId());
    }

    @Test
    void reportsEveryBadLineWithItsNumberAndSendsNothingUnlessSkipBad() throws IOException {
        Path file = write("bad.jsonl",
                "{\"prompt\": \"fine\"}",
                "{not json",
                "{\"conversation\": []}",
                "{\"prompt\": \"x\", \"samples_per_prompt\": 0}",
                "{\"promt\": \"typo\"}",
                "{\"conversation\": [{\"role\": \"robot\", \"content\": \"x\"}]}",
                "[1, 2]",
                "{\"prompt\": \"also fine\"}");
        PromptBatch batch = PromptFiles.readJsonl(file, 1);
        assertThat(batch.prompts()).hasSize(2);
        assertThat(batch.problems()).extracting(PromptProblem::where)
                .containsExactly("line 2", "line 3", "line 4", "line 5", "line 6", "line 7");
        assertThat(batch.problems().get(0).message()).contains("not valid JSON");
        assertThat(batch.problems().get(1).message()).contains("'conversation' is empty");
        assertThat(batch.problems().get(2).message()).contains("samples_per_prompt");
        assertThat(batch.problems().get(3).message()).contains("unknown field 'promt'");
        assertThat(batch.problems().get(4).message()).contains("'conversation[0].role' is 'robot'");
        assertThat(batch.problems().get(5).message()).contains("expected a JSON object");
        assertThatThrownBy(() -> batch.toSend(false)).isInstanceOf(PromptValidationException.class)
                .hasMessageContaining("6 invalid prompt(s); nothing was sent")
                .hasMessageContaining("bad.jsonl: line 4:");
        assertThat(batch.toSend(true)).extracting(p -> p.getConversation().get(0).getContent())
                .containsExactly("fine", "also fine");
    }

    @Test
    void readsReferenceAnswersAndVerifiers() throws IOException {
        Path file = write("verifiable.jsonl",
                "{\"prompt\": \"2+2?\", \"reference_answers\": \"4\", \"verifier\": \"numeric;extract=boxed\"}",
                "{\"prompt\": \"pi?\", \"reference_answers\": [3.14159, \"22/7\"]}",
                "{\"prompt\": \"a person\", \"reference_answers\": {\"type\": \"object\"}, \"verifier\": \"json-schema\"}",
                "{\"prompt\": \"x\", \"reference_answers\": [true]}",
                "{\"prompt\": \"y\", \"verifier\": \"close-enough\"}",
                "{\"prompt\": \"plain\"}");
        PromptBatch batch = PromptFiles.readJsonl(file, 1);
        List<Prompt> prompts = batch.prompts();
        assertThat(prompts).hasSize(4);
        assertThat(prompts.get(0).getReferenceAnswers()).containsExactly("4");
        assertThat(prompts.get(0).getVerifier()).isEqualTo("numeric;extract=boxed");
        assertThat(prompts.get(1).getReferenceAnswers()).containsExactly("3.14159", "22/7");
        assertThat(prompts.get(1).getVerifier()).isNull();
        assertThat(prompts.get(2).getReferenceAnswers()).containsExactly("{\"type\":\"object\"}");
        assertThat(prompts.get(3).getReferenceAnswers()).isEmpty();
        assertThat(batch.problems()).hasSize(2);
        assertThat(batch.problems().get(0).where()).isEqualTo("line 4");
        assertThat(batch.problems().get(0).message()).contains("reference_answers[0]").contains("boolean");
        assertThat(batch.problems().get(1).where()).isEqualTo("line 5");
        assertThat(batch.problems().get(1).message()).contains("field 'verifier'").contains("unknown kind");
    }

    @Test
    void emptyOrMissingFilesAreProblems() throws IOException {
        assertThat(PromptFiles.readJsonl(write("empty.jsonl"), 1).problems()).singleElement()
                .satisfies(p -> assertThat(p.message()).contains("empty"));
        assertThat(PromptFiles.readJsonl(dir.resolve("missing.jsonl"), 1).problems()).singleElement()
                .satisfies(p -> assertThat(p.message()).contains("cannot be read"));
    }

    @Test
    void readsRmbConversationInputFromAFolder() throws URISyntaxException {
        Path rmb = Path.of(getClass().getResource("/rmb").toURI());
        PromptBatch batch = PromptFiles.readRmb(rmb, 3);
        assertThat(batch.problems()).isEmpty();
        assertThat(batch.prompts()).extracting(Prompt::getPromptId).containsExactly("rmb-b-1", "rmb-p-1", "rmb-p-2");
        Prompt multi = batch.prompts().get(2);
        assertThat(multi.getConversation()).extracting(t -> t.getRole())
                .containsExactly(Role.USER, Role.ASSISTANT, Role.USER);
        assertThat(multi.getCategory()).isEqualTo("Helpfulness/Chat/Casual Conversation");
        assertThat(multi.getMetadata()).containsEntry("pair_uid", "p-2").containsEntry("goal", "Helpfulness")
                .containsEntry("rmb_file", Path.of("pairwise", "chat.json").toString());
        assertThat(multi.getSamplesPerPrompt()).isEqualTo(3);
    }

    @Test
    void rmbProblemsNameFileAndRecord() throws IOException {
        Path file = write("broken.json", "[{\"pair_uid\": \"1\"}, {\"conversation_input\": \"text\"},"
                + " {\"conversation_input\": [{\"role\": \"user\", \"content\": \"ok\"}]}]");
        PromptBatch batch = PromptFiles.readRmb(file, 1);
        assertThat(batch.prompts()).hasSize(1);
        assertThat(batch.problems()).extracting(PromptProblem::where).containsExactly("record 1", "record 2");
        assertThat(batch.problems().get(0).message()).contains("missing field 'conversation_input'");
    }

    @Test
    void readsTheSharedRmbSampleWhereItExists() {
        Path shared = Path.of(System.getProperty("project.root", "..")).resolve("../shared/rmb").normalize();
        Assumptions.assumeTrue(Files.isDirectory(shared), "the RMB sample is not at " + shared + "; skipping");
        PromptBatch batch = PromptFiles.readRmb(shared, 1);
        assertThat(batch.problems()).isEmpty();
        // 740 pairwise + 183 best-of-n records in the sample (its README)
        assertThat(batch.prompts()).hasSize(923);
        assertThat(batch.prompts()).allSatisfy(p -> assertThat(p.getConversation()).isNotEmpty());
    }

    private Path write(String name, String... lines) throws IOException {
        return Files.write(dir.resolve(name), List.of(lines));
    }
}
