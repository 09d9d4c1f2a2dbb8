package io.streamrlhf.producer.feedback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.schemas.avro.FeedbackSource;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeedbackTokensTest {

    @TempDir
    Path dir;

    @Test
    void readsOneAnnotatorPerLineSkippingCommentsAndBlanks() throws Exception {
        Path file = Files.writeString(dir.resolve("tokens"), """
                # annotator source token
                alice   human     alice-token-0123456789abcdef

                judge-1 ai_judge  judge-token-0123456789abcdef
                """);
        FeedbackTokens tokens = FeedbackTokens.read(file);
        assertThat(tokens.size()).isEqualTo(2);
        assertThat(tokens.lookup("alice-token-0123456789abcdef")).contains(
                new FeedbackTokens.Annotator("alice", FeedbackSource.HUMAN));
        assertThat(tokens.lookup("judge-token-0123456789abcdef").orElseThrow().source())
                .isEqualTo(FeedbackSource.AI_JUDGE);
        assertThat(tokens.lookup("alice-token-0123456789abcdeX")).isEmpty();
        assertThat(FeedbackTokens.none().enabled()).isFalse();
    }

    @Test
    void badLinesAreNamedWithoutPrintingTheToken() throws Exception {
        Path shortToken = Files.writeString(dir.resolve("short"), "alice human abc\n");
        assertThatThrownBy(() -> FeedbackTokens.read(shortToken)).hasMessageContaining("line 1")
                .hasMessageContaining("shorter than 24").hasMessageNotContaining("abc ");
        Path source = Files.writeString(dir.resolve("source"), "\nalice robot alice-token-0123456789abcdef\n");
        assertThatThrownBy(() -> FeedbackTokens.read(source)).hasMessageContaining("line 2")
                .hasMessageContaining("unknown source 'robot'").hasMessageNotContaining("alice-token");
        Path fields = Files.writeString(dir.resolve("fields"), "alice alice-token-0123456789abcdef\n");
        assertThatThrownBy(() -> FeedbackTokens.read(fields)).hasMessageContaining("ANNOTATOR_ID SOURCE TOKEN");
        Path twice = Files.writeString(dir.resolve("twice"), "a human alice-token-0123456789abcdef\n"
                + "b human alice-token-0123456789abcdef\n");
        assertThatThrownBy(() -> FeedbackTokens.read(twice)).hasMessageContaining("line 2")
                .hasMessageContaining("already given");
        assertThatThrownBy(() -> FeedbackTokens.read(dir.resolve("missing"))).hasMessageContaining("missing");
    }
}
