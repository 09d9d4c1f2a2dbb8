package io.streamrlhf.producer.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.producer.feed.PromptBatch;
import io.streamrlhf.producer.feed.PromptFiles;
import io.streamrlhf.producer.feed.PromptProblem;
import io.streamrlhf.producer.feedback.FeedbackImporter;
import io.streamrlhf.producer.feedback.FeedbackParser;
import io.streamrlhf.schemas.fuzz.JsonlDamage;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzes the JSONL importers ({@code rlhf prompts send --file}, {@code rlhf feedback import}) with files of valid
 * lines and damaged ones ({@link JsonlDamage}, fixed seed): every line is either read or reported as a problem naming
 * the file and its line number, a valid line is never reported, and nothing but the documented result comes out
 * (no exception, no stack trace in a message).
 */
class ImporterFuzzTest {

    private static final JsonlDamage PROMPTS = new JsonlDamage(List.of(
            "{\"prompt\": \"What is 2+2?\"}",
            "{\"prompt_id\": \"p-1\", \"conversation\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, "
                    + "{\"role\": \"user\", \"content\": \"Name a prime.\"}], \"category\": \"math\", "
                    + "\"samples_per_prompt\": 4, \"metadata\": {\"origin\": \"fuzz\"}}",
            "{\"prompt\": \"2+2?\", \"reference_answers\": [\"4\", 4.0], \"verifier\": \"numeric;extract=boxed\"}",
            "{\"prompt\": \"a person\", \"reference_answers\": {\"type\": \"object\"}, "
                    + "\"verifier\": \"json-schema\"}"));
    private static final JsonlDamage LABELS = new JsonlDamage(IntStream.range(0, 8)
            .mapToObj(i -> FeedbackRequests.validLabel(new Random(i)).toString()).toList());
    private static Path dir;

    @BeforeContainer
    static void makeDir() throws IOException {
        dir = Files.createTempDirectory("importer-fuzz");
    }

    @AfterContainer
    static void removeDir() throws IOException {
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    @Property(tries = 120, seed = "20261207", shrinking = ShrinkingMode.OFF, edgeCases = EdgeCasesMode.NONE)
    void everyPromptLineIsReadOrReportedWithItsFileAndLine(@ForAll long seed) throws IOException {
        JsonlDamage.File file = PROMPTS.file(new Random(seed), 12, 0.4);
        Path path = write(file);
        PromptBatch batch = PromptFiles.readJsonl(path, 2);
        checkProblems(path, file, batch.problems());
        assertThat(batch.prompts().size() + batch.problems().size()).as("no line skipped silently")
                .isEqualTo(nonBlankLines(file));
    }

    @Property(tries = 120, seed = "20261208", shrinking = ShrinkingMode.OFF, edgeCases = EdgeCasesMode.NONE)
    void everyFeedbackLineIsReadOrReportedWithItsFileAndLine(@ForAll long seed) throws IOException {
        JsonlDamage.File file = LABELS.file(new Random(seed), 12, 0.4);
        Path path = write(file);
        FeedbackImporter.Result result = FeedbackImporter.read(path, new FeedbackParser());
        checkProblems(path, file, result.problems());
        assertThat(result.labels().size() + result.problems().size()).as("no line skipped silently")
                .isEqualTo(nonBlankLines(file));
    }

    private static void checkProblems(Path path, JsonlDamage.File file, List<PromptProblem> problems) {
        for (PromptProblem p : problems) {
            assertThat(p.source()).isEqualTo(path.toString());
            assertThat(p.where()).matches("line \\d+");
            int line = Integer.parseInt(p.where().substring(5));
            assertThat(file.damaged()).as("only damaged lines are reported: %s", p).contains(line);
            assertThat(p.message()).isNotBlank().doesNotContain("Exception").doesNotContain("\tat ");
        }
        assertThat(problems.stream().map(PromptProblem::where).distinct().count()).as("one problem a line")
                .isEqualTo(problems.size());
    }

    /** Lines that are not empty or white space once decoded; a line that is not UTF-8 is never blank. */
    static int nonBlankLines(JsonlDamage.File file) {
        String[] lines = new String(file.bytes(), StandardCharsets.ISO_8859_1).split("\n", -1);
        int n = 0;
        for (int i = 0; i < file.lines(); i++) {
            byte[] bytes = lines[i].getBytes(StandardCharsets.ISO_8859_1);
            try {
                String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
                if (!text.isBlank()) {
                    n++;
                }
            } catch (CharacterCodingException e) {
                n++;
            }
        }
        return n;
    }

    private static Path write(JsonlDamage.File file) throws IOException {
        Path path = dir.resolve("input.jsonl");
        Files.write(path, file.bytes());
        return path;
    }
}
