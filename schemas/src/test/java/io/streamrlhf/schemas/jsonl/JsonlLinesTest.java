package io.streamrlhf.schemas.jsonl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonlLinesTest {

    @Test
    void aLineThatIsNotUtf8IsReportedWithItsNumberAndTheLinesAfterItAreStillRead() throws IOException {
        // A Reader over the whole file used to fail the file at the first bad byte, with no line number.
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.writeBytes("\uFEFF{\"a\":1}\r\n".getBytes(StandardCharsets.UTF_8));
        file.writeBytes(new byte[] {'{', '"', 'b', (byte) 0xC0, (byte) 0xAF, '"', '}', '\n'});
        file.writeBytes("\n{\"c\":\"x\ry\"}".getBytes(StandardCharsets.UTF_8));
        List<JsonlLines.Line> lines = new ArrayList<>();
        int n = JsonlLines.forEach(new ByteArrayInputStream(file.toByteArray()), lines::add);
        assertThat(n).isEqualTo(4);
        assertThat(lines).extracting(JsonlLines.Line::number).containsExactly(1, 2, 3, 4);
        assertThat(lines.get(0).text()).isEqualTo("{\"a\":1}");
        assertThat(lines.get(1).problem()).isEqualTo("not valid UTF-8 (at byte 4 of the line); save the file as UTF-8");
        assertThat(lines.get(2).isBlank()).isTrue();
        assertThat(lines.get(3).text()).as("a lone CR stays inside its line").isEqualTo("{\"c\":\"x\ry\"}");
    }
}
