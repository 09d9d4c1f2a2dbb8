package io.streamrlhf.schemas.jsonl;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The lines of a JSONL file, each decoded on its own. Lines end at {@code \n} (a {@code \r} before it is dropped),
 * so line numbers are what an editor shows; a lone {@code \r} inside a line stays part of it. A line that is not
 * UTF-8 is handed over with a problem naming the byte, and the lines after it are still read, so an importer can
 * report every bad line of a file with its number instead of failing the whole file at the first bad byte. A
 * byte-order mark at the start of the file is skipped.
 */
public final class JsonlLines {

    /**
     * One line.
     *
     * @param number  its number, from 1
     * @param text    its text (empty when it could not be decoded)
     * @param problem why it could not be decoded, or null
     */
    public record Line(int number, String text, String problem) {
        /** Whether it is empty or only white space (and decoded). */
        public boolean isBlank() {
            return problem == null && text.isBlank();
        }
    }

    /** What to do with each line. */
    @FunctionalInterface
    public interface Handler {
        /** Handles {@code line}. */
        void accept(Line line);
    }

    private JsonlLines() {
    }

    /**
     * Hands every line of {@code file} to {@code handler}, in order.
     *
     * @return how many lines the file has
     * @throws IOException when the file cannot be read (not for bytes that are not UTF-8)
     */
    public static int forEach(Path file, Handler handler) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return forEach(in, handler);
        }
    }

    /** Hands every line of {@code in} to {@code handler}, in order, and returns how many there were. */
    public static int forEach(InputStream in, Handler handler) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] buffer = new byte[1 << 16];
        int number = 0;
        int read;
        while ((read = in.read(buffer)) != -1) {
            int start = 0;
            for (int i = 0; i < read; i++) {
                if (buffer[i] == '\n') {
                    line.write(buffer, start, i - start);
                    handler.accept(decode(++number, line.toByteArray(), number == 1));
                    line.reset();
                    start = i + 1;
                }
            }
            line.write(buffer, start, read - start);
        }
        if (line.size() > 0) {
            handler.accept(decode(++number, line.toByteArray(), number == 1));
        }
        return number;
    }

    private static Line decode(int number, byte[] bytes, boolean first) {
        int from = first && bytes.length >= 3 && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB
                && (bytes[2] & 0xFF) == 0xBF ? 3 : 0;
        int to = bytes.length > from && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return new Line(number, decoder.decode(ByteBuffer.wrap(bytes, from, to - from)).toString(), null);
        } catch (CharacterCodingException e) {
            return new Line(number, "", "not valid UTF-8 (at byte " + (firstBadByte(bytes, from, to) + 1)
                    + " of the line); save the file as UTF-8");
        }
    }

    /** Where decoding first fails: a decoder stops in front of the first malformed byte. */
    private static int firstBadByte(byte[] bytes, int from, int to) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, from, to - from);
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(to - from + 1);
        decoder.decode(in, out, true);
        return in.position();
    }
}
