package io.streamrlhf.schemas.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * JSONL files for the importers: valid lines (from the importer's own samples) with some lines damaged. An importer
 * must read each line or report it with the file and its line number; it may neither skip a line silently nor fail
 * with anything but its documented error.
 */
public final class JsonlDamage {

    /** How a line is damaged. */
    public enum Kind {
        /** Cut short. */
        TRUNCATE,
        /** Random bits flipped (the line may no longer be UTF-8). */
        BIT_FLIPS,
        /** A JSON token inserted at random. */
        JUNK,
        /** Bytes that are not UTF-8 inserted. */
        NOT_UTF8,
        /** A value of another type in place of the line's first string value. */
        WRONG_TYPE,
        /** Not an object: an array, a number, a string, null. */
        NOT_AN_OBJECT,
        /** An unknown field added. */
        UNKNOWN_FIELD,
        /** A NUL or another control character inserted. */
        CONTROL,
        /** Long: a string of up to 200,000 characters inside the line. */
        HUGE,
        /** Nested deeper than any parser should follow. */
        DEEP
    }

    /**
     * A file's bytes and which of its lines (numbered from 1) were damaged.
     *
     * @param bytes   the file
     * @param lines   how many lines it has
     * @param damaged the numbers of the damaged lines
     */
    public record File(byte[] bytes, int lines, List<Integer> damaged) {
    }

    private final List<String> valid;

    /** @param valid valid lines of the importer's format, to draw from and damage */
    public JsonlDamage(List<String> valid) {
        if (valid.isEmpty()) {
            throw new IllegalArgumentException("give at least one valid line");
        }
        this.valid = List.copyOf(valid);
    }

    /** A file of 1 to {@code maxLines} lines, each damaged with probability {@code damageRate}. */
    public File file(Random random, int maxLines, double damageRate) {
        int lines = 1 + random.nextInt(maxLines);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<Integer> damaged = new ArrayList<>();
        for (int n = 1; n <= lines; n++) {
            byte[] line = valid.get(random.nextInt(valid.size())).getBytes(StandardCharsets.UTF_8);
            if (random.nextDouble() < damageRate) {
                line = damage(line, Kind.values()[random.nextInt(Kind.values().length)], random);
                damaged.add(n);
            }
            out.writeBytes(line);
            out.write('\n');
        }
        return new File(out.toByteArray(), lines, damaged);
    }

    /** {@code line} damaged in {@code kind}; never containing a line break. */
    public static byte[] damage(byte[] line, Kind kind, Random random) {
        String text = new String(line, StandardCharsets.UTF_8);
        byte[] out = switch (kind) {
            case TRUNCATE -> java.util.Arrays.copyOf(line, random.nextInt(line.length));
            case BIT_FLIPS -> {
                byte[] b = line.clone();
                for (int i = 0, n = 1 + random.nextInt(4); i < n; i++) {
                    int bit = random.nextInt(b.length * 8);
                    b[bit / 8] ^= (byte) (1 << (bit % 8));
                }
                yield b;
            }
            case JUNK -> {
                String[] junk = {"{", "}", "[", "]", ",", ":", "\"", "\\", "nul", "NaN", "'", "//", "1e99999"};
                int at = random.nextInt(text.length() + 1);
                yield utf8(text.substring(0, at) + junk[random.nextInt(junk.length)] + text.substring(at));
            }
            case NOT_UTF8 -> {
                byte[][] bad = {{(byte) 0x80}, {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xE2, (byte) 0x82}, {(byte) 0xFF},
                    {(byte) 0xED, (byte) 0xA0, (byte) 0x80}};
                byte[] insert = bad[random.nextInt(bad.length)];
                int at = random.nextInt(line.length + 1);
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                b.write(line, 0, at);
                b.writeBytes(insert);
                b.write(line, at, line.length - at);
                yield b.toByteArray();
            }
            case WRONG_TYPE -> {
                String[] values = {"1", "true", "null", "{}", "[]", "[1,2]", "{\"a\":\"b\"}", "-1.5e308"};
                yield utf8(text.replaceFirst("\"(?:[^\"\\\\]|\\\\.)*\"(\\s*[,}\\]])",
                        values[random.nextInt(values.length)] + "$1"));
            }
            case NOT_AN_OBJECT -> {
                String[] values = {"[" + text + "]", "42", "\"" + "x" + "\"", "null", "true", "[]"};
                yield utf8(values[random.nextInt(values.length)]);
            }
            case UNKNOWN_FIELD -> text.startsWith("{") ? utf8("{\"zz_unknown\":1," + text.substring(1))
                    : utf8("{\"zz_unknown\":1}");
            case CONTROL -> {
                char[] controls = {'\u0000', '\u0001', '\u001b', '\r', '\u007f', '\u2028', '\u000b'};
                int at = random.nextInt(text.length() + 1);
                yield utf8(text.substring(0, at) + controls[random.nextInt(controls.length)] + text.substring(at));
            }
            case HUGE -> utf8(text.replaceFirst("\"(?:[^\"\\\\]|\\\\.)*\"(\\s*[,}\\]])",
                    "\"" + "\u00e9".repeat(random.nextInt(200_000)) + "\"$1"));
            case DEEP -> {
                int depth = 1000 + random.nextInt(20_000);
                yield utf8("{\"a\":" + "[".repeat(depth) + "]".repeat(depth) + "}");
            }
        };
        // A damaged line stays one line: a line break would shift every later line's number.
        for (int i = 0; i < out.length; i++) {
            if (out[i] == '\n') {
                out[i] = ' ';
            }
        }
        return out;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
