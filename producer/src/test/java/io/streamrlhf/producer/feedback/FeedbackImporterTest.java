package io.streamrlhf.producer.feedback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.producer.feed.PromptProblem;
import io.streamrlhf.schemas.avro.FeedbackKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeedbackImporterTest {

    @TempDir
    Path dir;

    @Test
    void validatesEveryLineAndSendsNothingPartialUnlessSkipBad() throws IOException {
        String a = FeedbackParserTest.A;
        String b = FeedbackParserTest.B;
        Path file = Files.write(dir.resolve("labels.jsonl"), List.of(
                "{\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"" + a + "\",\"" + b
                        + "\"],\"preferred_index\":0,\"annotator_id\":\"x\"}",
                "",
                "{\"kind\":\"rating\",\"prompt_id\":\"p\",\"generation_ids\":[\"" + a + "\"],\"annotator_id\":\"x\"}",
                "{\"kind\":\"best_of_n\",\"prompt_id\":\"q\",\"conversation\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                        + "\"texts\":[\"1\",\"2\",\"3\"],\"preferred_index\":1,\"annotator_id\":\"y\"}",
                "oops"));
        FeedbackImporter.Result result = FeedbackImporter.read(file, new FeedbackParser());
        assertThat(result.labels()).extracting(f -> f.getKind())
                .containsExactly(FeedbackKind.PAIRWISE, FeedbackKind.BEST_OF_N);
        assertThat(result.problems()).extracting(PromptProblem::where).containsExactly("line 3", "line 5");
        assertThat(result.problems().get(0).message()).contains("missing field 'rating'");
        assertThat(result.problems().get(1).message()).contains("malformed JSON");
        assertThatThrownBy(() -> result.toSend(false)).hasMessageContaining("2 invalid label(s); nothing was sent")
                .hasMessageContaining("labels.jsonl: line 3:");
        assertThat(result.toSend(true)).hasSize(2);
    }
}
