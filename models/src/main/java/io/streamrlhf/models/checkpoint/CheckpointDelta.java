package io.streamrlhf.models.checkpoint;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/*
 * CONTRACT: the delta form of a byte-stream checkpoint on the checkpoints topic. A version record with
 * delta_base_version set points at chunks holding encode(base, target); workers apply(base, delta).
 */

/**
 * The exact difference between two byte-stream checkpoints ({@link CheckpointStore#toBytes}): version N as its
 * difference to a base version, so a training step that moves every weight a little costs a fraction of the full
 * bytes on the wire, and the reconstructed stream is byte for byte the full one (same manifest, same sha256).
 *
 * <p>Per entry of the target stream: an entry as long as the base's entry of that name is sent as the difference of
 * the two, word by word: each 4-byte little-endian word (a float32 weight as DJL writes it) is subtracted from the
 * base's as an integer modulo 2<sup>32</sup>, which is exact whatever the bytes are; a small float update moves the
 * bits of a weight of the same sign and exponent by a small integer, which zigzag coding turns into a few low bits
 * and zero high bytes. The words' bytes go into four planes by significance, so the zero high bytes lie together,
 * and the whole is deflated. Where a tensor's data begins is not aligned to 4 in the stream, so each block of
 * {@value #BLOCK} bytes picks the phase whose most significant byte changes least (the sign and exponent byte of a
 * weight almost never changes in a step). Any other entry is deflated as it is. The planes and phases are written
 * by hand: no library on the class path shuffles bytes for compression.
 *
 * <p>Layout: magic {@code "RLHFDLTA"}, delta format (int), base version (long), base manifest sha256 (UTF), target
 * manifest sha256 (UTF), entry count (int), then per entry its name (UTF), mode (byte: 0 literal, 1 difference to
 * the base), length before compression (int), compressed length (int) and the compressed bytes.
 */
public final class CheckpointDelta {

    /** Current delta format. */
    public static final int FORMAT_VERSION = 1;
    private static final byte[] MAGIC = "RLHFDLTA".getBytes(StandardCharsets.US_ASCII);
    private static final byte LITERAL = 0;
    private static final byte DIFFERENCE = 1;
    private static final int PLANES = 4;
    private static final int BLOCK = 4096;

    private CheckpointDelta() {
    }

    /** What a delta says about itself before it is applied. */
    public record Header(long baseVersion, String baseSha256, String targetSha256) {
    }

    /** Whether {@code bytes} are a delta (rather than a full byte-stream checkpoint). */
    public static boolean isDelta(byte[] bytes) {
        return bytes != null && bytes.length >= MAGIC.length
                && Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length);
    }

    /**
     * The delta that turns {@code base} (published as {@code baseVersion}) into {@code target}; both byte-stream
     * checkpoints.
     */
    public static byte[] encode(long baseVersion, byte[] base, byte[] target) {
        Map<String, byte[]> from = CheckpointStore.entries(base);
        Map<String, byte[]> to = CheckpointStore.entries(target);
        ByteArrayOutputStream out = new ByteArrayOutputStream(target.length / 4);
        try (DataOutputStream data = new DataOutputStream(out)) {
            data.write(MAGIC);
            data.writeInt(FORMAT_VERSION);
            data.writeLong(baseVersion);
            data.writeUTF(manifestSha(from, "base"));
            data.writeUTF(manifestSha(to, "target"));
            data.writeInt(to.size());
            Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION);
            try {
                for (Map.Entry<String, byte[]> e : to.entrySet()) {
                    byte[] now = e.getValue();
                    byte[] before = from.get(e.getKey());
                    boolean diff = before != null && before.length == now.length;
                    byte[] raw = diff ? difference(before, now) : now;
                    byte[] packed = deflate(deflater, raw);
                    data.writeUTF(e.getKey());
                    data.writeByte(diff ? DIFFERENCE : LITERAL);
                    data.writeInt(raw.length);
                    data.writeInt(packed.length);
                    data.write(packed);
                }
            } finally {
                deflater.end();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The header of a delta. */
    public static Header header(byte[] delta) {
        try (DataInputStream in = open(delta)) {
            return readHeader(in);
        } catch (IOException e) {
            throw new CheckpointException("checkpoint delta: truncated header (" + e + ")", e);
        }
    }

    /**
     * Applies {@code delta} to {@code base}, the byte-stream checkpoint of its base version.
     *
     * @return the target's byte-stream form, whose manifest hashes to {@link Header#targetSha256()}
     * @throws CheckpointException when {@code base} is not the delta's base (naming both manifests' sha256), or the
     *                             delta is corrupt
     */
    public static byte[] apply(byte[] base, byte[] delta) {
        Map<String, byte[]> from = CheckpointStore.entries(base);
        try (DataInputStream in = open(delta)) {
            Header header = readHeader(in);
            String held = manifestSha(from, "base");
            if (!held.equals(header.baseSha256())) {
                throw new CheckpointException("checkpoint delta on version " + header.baseVersion()
                        + " needs the base whose manifest sha256 is " + header.baseSha256()
                        + ", but the checkpoint given as its base has manifest sha256 " + held);
            }
            int n = in.readInt();
            if (n < 0 || n > 64) {
                throw new CheckpointException("checkpoint delta: implausible entry count " + n);
            }
            Map<String, byte[]> to = new LinkedHashMap<>();
            Inflater inflater = new Inflater();
            try {
                for (int i = 0; i < n; i++) {
                    String name = in.readUTF();
                    byte mode = in.readByte();
                    int length = in.readInt();
                    int packed = in.readInt();
                    if (length < 0 || packed < 0 || packed > delta.length) {
                        throw new CheckpointException("checkpoint delta: entry " + name + " has bad lengths "
                                + length + "/" + packed);
                    }
                    byte[] raw = inflate(inflater, in.readNBytes(packed), length, name);
                    if (mode == DIFFERENCE) {
                        byte[] before = from.get(name);
                        if (before == null) {
                            throw new CheckpointException("checkpoint delta: entry " + name + " is a difference to "
                                    + "a base entry the base does not have");
                        }
                        raw = sum(before, raw);
                    } else if (mode != LITERAL) {
                        throw new CheckpointException("checkpoint delta: entry " + name + " has unknown mode " + mode);
                    }
                    to.put(name, raw);
                }
            } finally {
                inflater.end();
            }
            String made = manifestSha(to, "result");
            if (!made.equals(header.targetSha256())) {
                throw new CheckpointException("checkpoint delta on version " + header.baseVersion()
                        + ": the result's manifest sha256 is " + made + " but the delta promises "
                        + header.targetSha256() + "; the delta is corrupt");
            }
            return CheckpointStore.stream(to);
        } catch (IOException e) {
            throw new CheckpointException("checkpoint delta: truncated (" + e + ")", e);
        }
    }

    private static DataInputStream open(byte[] delta) {
        if (!isDelta(delta)) {
            throw new CheckpointException("checkpoint delta: bad magic, not a StreamRLHF checkpoint delta");
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(delta));
        try {
            in.skipNBytes(MAGIC.length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return in;
    }

    private static Header readHeader(DataInputStream in) throws IOException {
        int format = in.readInt();
        if (format != FORMAT_VERSION) {
            throw new CheckpointException("checkpoint delta: format " + format + " is not supported (expected "
                    + FORMAT_VERSION + ")");
        }
        return new Header(in.readLong(), in.readUTF(), in.readUTF());
    }

    private static String manifestSha(Map<String, byte[]> entries, String which) {
        byte[] manifest = entries.get(CheckpointStore.MANIFEST);
        if (manifest == null) {
            throw new CheckpointException("checkpoint delta: the " + which + " holds no " + CheckpointStore.MANIFEST);
        }
        return CheckpointStore.sha256(manifest);
    }

    /** The word-wise difference {@code now - before} of two equally long byte arrays, in planes (see the class). */
    static byte[] difference(byte[] before, byte[] now) {
        int n = now.length;
        int blocks = (n + BLOCK - 1) / BLOCK;
        byte[] phases = new byte[blocks];
        int words = 0;
        for (int b = 0; b < blocks; b++) {
            int from = b * BLOCK;
            int to = Math.min(n, from + BLOCK);
            int[] changed = new int[PLANES];
            for (int i = from; i < to; i++) {
                if (before[i] != now[i]) {
                    changed[(i - from) % PLANES]++;
                }
            }
            int msb = 0;
            for (int r = 1; r < PLANES; r++) {
                msb = changed[r] < changed[msb] ? r : msb;
            }
            int phase = (msb + 1) % PLANES;  // little-endian: the word starts after the previous word's top byte
            phases[b] = (byte) phase;
            words += Math.max(0, (to - from - phase) / PLANES);
        }
        byte[] out = new byte[blocks + n];
        System.arraycopy(phases, 0, out, 0, blocks);
        int rest = blocks + PLANES * words;
        int w = 0;
        for (int b = 0; b < blocks; b++) {
            int from = b * BLOCK;
            int to = Math.min(n, from + BLOCK);
            int start = from + phases[b];
            int end = start + Math.max(0, (to - start) / PLANES) * PLANES;
            for (int i = from; i < Math.min(start, to); i++) {
                out[rest++] = (byte) (now[i] - before[i]);
            }
            for (int i = start; i < end; i += PLANES, w++) {
                int d = word(now, i) - word(before, i);
                int zigzag = (d << 1) ^ (d >> 31);
                for (int p = 0; p < PLANES; p++) {
                    out[blocks + p * words + w] = (byte) (zigzag >>> (8 * p));
                }
            }
            for (int i = end; i < to; i++) {
                out[rest++] = (byte) (now[i] - before[i]);
            }
        }
        return out;
    }

    /** The inverse of {@link #difference}: {@code before} plus the planed difference. */
    static byte[] sum(byte[] before, byte[] planed) {
        int n = before.length;
        int blocks = (n + BLOCK - 1) / BLOCK;
        if (planed.length != blocks + n) {
            throw new CheckpointException("checkpoint delta: a difference of " + planed.length + " bytes does not fit "
                    + "a base entry of " + n + " bytes");
        }
        int words = 0;
        for (int b = 0; b < blocks; b++) {
            int phase = planed[b];
            if (phase < 0 || phase >= PLANES) {
                throw new CheckpointException("checkpoint delta: block " + b + " has bad phase " + phase);
            }
            int from = b * BLOCK;
            int to = Math.min(n, from + BLOCK);
            words += Math.max(0, (to - from - phase) / PLANES);
        }
        byte[] out = new byte[n];
        int rest = blocks + PLANES * words;
        int w = 0;
        for (int b = 0; b < blocks; b++) {
            int from = b * BLOCK;
            int to = Math.min(n, from + BLOCK);
            int start = from + planed[b];
            int end = start + Math.max(0, (to - start) / PLANES) * PLANES;
            for (int i = from; i < Math.min(start, to); i++) {
                out[i] = (byte) (before[i] + planed[rest++]);
            }
            for (int i = start; i < end; i += PLANES, w++) {
                int zigzag = 0;
                for (int p = 0; p < PLANES; p++) {
                    zigzag |= (planed[blocks + p * words + w] & 0xff) << (8 * p);
                }
                int d = (zigzag >>> 1) ^ -(zigzag & 1);
                int v = word(before, i) + d;
                for (int p = 0; p < PLANES; p++) {
                    out[i + p] = (byte) (v >>> (8 * p));
                }
            }
            for (int i = end; i < to; i++) {
                out[i] = (byte) (before[i] + planed[rest++]);
            }
        }
        return out;
    }

    private static int word(byte[] b, int i) {
        return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8 | (b[i + 2] & 0xff) << 16 | (b[i + 3] & 0xff) << 24;
    }

    private static byte[] deflate(Deflater deflater, byte[] raw) {
        deflater.reset();
        deflater.setInput(raw);
        deflater.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, raw.length / 4));
        byte[] buf = new byte[64 * 1024];
        while (!deflater.finished()) {
            out.write(buf, 0, deflater.deflate(buf));
        }
        return out.toByteArray();
    }

    private static byte[] inflate(Inflater inflater, byte[] packed, int length, String name) {
        inflater.reset();
        inflater.setInput(packed);
        byte[] out = new byte[length];
        try {
            int got = 0;
            while (got < length && !inflater.finished()) {
                int n = inflater.inflate(out, got, length - got);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
                got += n;
            }
            if (got != length || !inflater.finished()) {
                throw new CheckpointException("checkpoint delta: entry " + name + " inflates to " + got
                        + " bytes, not " + length);
            }
        } catch (DataFormatException e) {
            throw new CheckpointException("checkpoint delta: entry " + name + " is not valid deflate data: "
                    + e.getMessage(), e);
        }
        return out;
    }
}
