package io.streamrlhf.learner.rm.offline;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.learner.rm.embed.TextPair;
import io.streamrlhf.schemas.fuzz.JsonlDamage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.ShrinkingMode;

/**
 * Fuzzes {@code rlhf train-rm --file}'s reader with files of valid preference lines and damaged ones
 * ({@link JsonlDamage}, fixed seed): it reads every line, or stops with an {@link IllegalArgumentException} naming
 * the file and the number of a damaged line; it never skips a line silently and never fails otherwise.
 */
class PreferenceFileFuzzTest {

    private static final JsonlDamage PAIRS = new JsonlDamage(List.of(
            "{\"prompt\": \"What is 2+2?\", \"chosen\": \"4\", \"rejected\": \"5\"}",
            "{\"id\": \"pair-7\", \"prompt\": \"Name a colour.\", \"chosen\": \"Blue.\", \"rejected\": \"Seven.\", "
                    + "\"category\": \"chat\", \"chosen_gold\": 0.9, \"rejected_gold\": 0.1, \"flipped\": false}"));

    @Property(tries = 150, seed = "20261207", shrinking = ShrinkingMode.OFF, edgeCases = EdgeCasesMode.NONE)
    void everyLineIsReadOrTheErrorNamesTheFileAndADamagedLine(@ForAll long seed) throws IOException {
        JsonlDamage.File file = PAIRS.file(new Random(seed), 12, 0.3);
        Path path = Files.createTempFile("pairs", ".jsonl");
        try {
            Files.write(path, file.bytes());
            List<TextPair> pairs;
            try {
                pairs = PreferenceFile.readTexts(path);
            } catch (IllegalArgumentException e) {
                Matcher at = Pattern.compile(Pattern.quote(path.toString()) + " line (\\d+): .+", Pattern.DOTALL)
                        .matcher(e.getMessage());
                assertThat(at.matches()).as("the error names the file and line: %s", e.getMessage()).isTrue();
                assertThat(file.damaged()).contains(Integer.parseInt(at.group(1)));
                return;
            }
            assertThat(pairs).as("no line skipped silently").hasSize(nonBlankLines(file));
        } finally {
            Files.delete(path);
        }
    }

    private static int nonBlankLines(JsonlDamage.File file) {
        String[] lines = new String(file.bytes(), StandardCharsets.ISO_8859_1).split("\n", -1);
        int n = 0;
        for (int i = 0; i < file.lines(); i++) {
            try {
                String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(lines[i].getBytes(StandardCharsets.ISO_8859_1))).toString();
                n += text.isBlank() ? 0 : 1;
            } catch (CharacterCodingException e) {
                n++;
            }
        }
        return n;
    }
}
