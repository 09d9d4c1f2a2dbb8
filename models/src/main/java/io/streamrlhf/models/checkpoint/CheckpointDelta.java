package io.streamrlhf.models.checkpoint;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdException;
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
 * the two, word by word: each 4-byte little-endian word (a float32 weight as DJL and safetensors write it) is
 * subtracted from the base's as an integer modulo 2<sup>32</sup>, which is exact whatever the bytes are; a small float
 * update moves the bits of a weight of the same sign and exponent by a small integer, which zigzag coding turns into a
 * few low bits and zero high bytes. The words' bytes go into four planes by significance, so the zero high bytes lie
 * together. Where a tensor's data begins is not aligned to 4 in the stream, so each block of {@value #BLOCK} bytes
 * picks the phase whose most significant byte changes least (the sign and exponent byte of a weight almost never
 * changes in a step). Any other entry is sent as it is. Each entry is then compressed with zstd.
 *
 * <p>Within the planes the words are ordered by the exponent of their base weight (a stable counting sort the
 * receiver repeats from the base it holds): an update of about the learning rate changes about
 * log2(lr / ulp(weight)) bits, so weights of one exponent share one distribution of differences, and the entropy
 * coder's tables, built per block, fit each run of one exponent. On real PPO updates of the demo policy that takes a
 * delta from 0.51-0.57 of the full bytes (format 1: unsorted planes, deflate) to 0.45-0.53, and momentum
 * ({@link #encode(long, byte[], byte[], byte[])}) to 0.45-0.50 (docs/architecture.md);
 * XOR instead of the integer difference, and sorting by tensor as well, measured worse. The planes, phases and order
 * are written by hand: no library on the class path shuffles bytes for compression.
 *
 * <p>Layout: magic {@code "RLHFDLTA"}, delta format (int), base version (long), base manifest sha256 (UTF), target
 * manifest sha256 (UTF), in format 2 the prior's manifest sha256 (UTF, empty when no entry carries momentum), entry
 * count (int), then per entry its name (UTF), mode (byte: 0 literal, 1 difference to the base, 2 difference to the
 * base plus momentum, format 2 only), length before compression (int), compressed length (int) and the compressed
 * bytes. Format {@value #FORMAT_VERSION} compresses with zstd and orders words by exponent; format 1 (deflate, words
 * in stream order) is still read, and any other format is refused naming it.
 */
public final class CheckpointDelta {

    /** Current delta format: exponent-ordered planes, zstd. */
    public static final int FORMAT_VERSION = 2;
    /** The first delta format, still read: planes in stream order, deflate. */
    static final int FORMAT_DEFLATE = 1;
    /**
     * zstd level of entries up to {@value #SMALL_ENTRY_BYTES} bytes: the highest non-"ultra" level, 0.3 s for the
     * demo policy, whose deltas it makes 1% smaller than level 3 (22 gains under 0.1% more).
     */
    static final int ZSTD_LEVEL = 19;
    /**
     * zstd level of larger entries: level 19 takes minutes on a 65 MB GPT-2-shaped delta on two busy cores, level 3
     * well under a second, for deltas about 1% larger. Decompression costs the same at any level.
     */
    static final int ZSTD_LEVEL_LARGE = 3;
    static final int SMALL_ENTRY_BYTES = 8 << 20;
    private static final byte[] MAGIC = "RLHFDLTA".getBytes(StandardCharsets.US_ASCII);
    private static final byte LITERAL = 0;
    private static final byte DIFFERENCE = 1;
    /** A difference to the base's own update carried on: see {@link #encode(long, byte[], byte[], byte[])}. */
    private static final byte MOMENTUM = 2;
    /** Eighths of the base's update that predict the next (Adam's β1 = 0.9, rounded to a shift). */
    private static final int MOMENTUM_EIGHTHS = 7;
    private static final int PLANES = 4;
    private static final int BLOCK = 4096;

    private CheckpointDelta() {
    }

    /**
     * What a delta says about itself before it is applied.
     *
     * @param priorSha256 the manifest sha256 of the base's own base, which the delta's {@code MOMENTUM} entries
     *                    predict from; empty when no entry does (and always in format 1)
     */
    public record Header(long baseVersion, String baseSha256, String targetSha256, String priorSha256) {
        /** Whether applying the delta needs the version before its base ({@link #apply(byte[], byte[], byte[])}). */
        public boolean needsPrior() {
            return !priorSha256.isEmpty();
        }
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
        return encode(baseVersion, base, null, target);
    }

    /**
     * The same, where {@code prior} (nullable) is the version the base was itself a delta on. An optimiser with
     * momentum moves a weight in step N much as it moved it in step N−1 (Adam: m = β1·m + (1 − β1)·g), so an entry
     * may be sent as its difference to the base plus 7/8 of the base's own update ({@code MOMENTUM}, integer
     * arithmetic on the words, exact like the rest), which on real PPO updates of the demo policy is up to 4% of the
     * full bytes smaller than the plain difference. Each entry takes whichever of the two compresses smaller (steps
     * without momentum, as simulated independent steps are, keep the plain difference); a delta with any
     * {@code MOMENTUM} entry names the prior's manifest sha256 and needs it to be applied.
     */
    public static byte[] encode(long baseVersion, byte[] base, byte[] prior, byte[] target) {
        Map<String, byte[]> from = CheckpointStore.entries(base);
        Map<String, byte[]> earlier = prior == null ? Map.of() : CheckpointStore.entries(prior);
        Map<String, byte[]> to = CheckpointStore.entries(target);
        Map<String, byte[]> raws = new LinkedHashMap<>();
        Map<String, Byte> modes = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> e : to.entrySet()) {
            byte[] now = e.getValue();
            byte[] before = from.get(e.getKey());
            byte[] first = earlier.get(e.getKey());
            if (before == null || before.length != now.length) {
                raws.put(e.getKey(), now);
                modes.put(e.getKey(), LITERAL);
                continue;
            }
            byte[] plain = difference(before, null, now, true);
            byte[] momentum = first != null && first.length == now.length ? difference(before, first, now, true) : null;
            // A fast level is enough to rank the two: where momentum helps it saves up to 4% of the full bytes, while
            // levels 1 and 19 differ by under 1%.
            boolean carry = momentum != null
                    && Zstd.compress(momentum, 1).length < Zstd.compress(plain, 1).length;
            raws.put(e.getKey(), carry ? momentum : plain);
            modes.put(e.getKey(), carry ? MOMENTUM : DIFFERENCE);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(target.length / 4);
        try (DataOutputStream data = new DataOutputStream(out)) {
            data.write(MAGIC);
            data.writeInt(FORMAT_VERSION);
            data.writeLong(baseVersion);
            data.writeUTF(manifestSha(from, "base"));
            data.writeUTF(manifestSha(to, "target"));
            data.writeUTF(modes.containsValue(MOMENTUM) ? manifestSha(earlier, "prior") : "");
            data.writeInt(to.size());
            for (Map.Entry<String, byte[]> e : raws.entrySet()) {
                byte[] packed = Zstd.compress(e.getValue(),
                        e.getValue().length <= SMALL_ENTRY_BYTES ? ZSTD_LEVEL : ZSTD_LEVEL_LARGE);
                data.writeUTF(e.getKey());
                data.writeByte(modes.get(e.getKey()));
                data.writeInt(e.getValue().length);
                data.writeInt(packed.length);
                data.write(packed);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The header of a delta. */
    public static Header header(byte[] delta) {
        try (DataInputStream in = open(delta)) {
            return readHeader(in, readFormat(in));
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
        return apply(base, null, delta);
    }

    /**
     * Applies {@code delta} to {@code base}; {@code prior} (nullable) is the version the base was a delta on, which
     * a delta whose {@link Header#needsPrior()} needs.
     *
     * @throws CheckpointException as {@link #apply(byte[], byte[])}, and when the delta needs a prior and
     *                             {@code prior} is missing or another version (naming the manifest sha256 it needs)
     */
    public static byte[] apply(byte[] base, byte[] prior, byte[] delta) {
        Map<String, byte[]> from = CheckpointStore.entries(base);
        try (DataInputStream in = open(delta)) {
            int format = readFormat(in);
            Header header = readHeader(in, format);
            String held = manifestSha(from, "base");
            if (!held.equals(header.baseSha256())) {
                throw new CheckpointException("checkpoint delta on version " + header.baseVersion()
                        + " needs the base whose manifest sha256 is " + header.baseSha256()
                        + ", but the checkpoint given as its base has manifest sha256 " + held);
            }
            Map<String, byte[]> earlier = Map.of();
            if (header.needsPrior()) {
                if (prior == null) {
                    throw new CheckpointException("checkpoint delta on version " + header.baseVersion()
                            + " carries momentum from the version before its base (manifest sha256 "
                            + header.priorSha256() + "), and none was given");
                }
                earlier = CheckpointStore.entries(prior);
                String given = manifestSha(earlier, "prior");
                if (!given.equals(header.priorSha256())) {
                    throw new CheckpointException("checkpoint delta on version " + header.baseVersion()
                            + " needs the version before its base with manifest sha256 " + header.priorSha256()
                            + ", but the checkpoint given has manifest sha256 " + given);
                }
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
                    byte[] raw = format == FORMAT_DEFLATE ? inflate(inflater, in.readNBytes(packed), length, name)
                            : unzstd(in.readNBytes(packed), length, name);
                    if (mode == DIFFERENCE || mode == MOMENTUM && format != FORMAT_DEFLATE) {
                        byte[] before = from.get(name);
                        byte[] first = mode == MOMENTUM ? earlier.get(name) : null;
                        if (before == null || mode == MOMENTUM && (first == null || first.length != before.length)) {
                            throw new CheckpointException("checkpoint delta: entry " + name + " is a difference to "
                                    + "a base (or prior) entry the base (or prior) does not have");
                        }
                        raw = sum(before, first, raw, format != FORMAT_DEFLATE);
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

    private static int readFormat(DataInputStream in) throws IOException {
        int format = in.readInt();
        if (format != FORMAT_VERSION && format != FORMAT_DEFLATE) {
            throw new CheckpointException("checkpoint delta: format " + format + " is not supported (this build reads "
                    + FORMAT_DEFLATE + " and " + FORMAT_VERSION + "); was it written by a newer StreamRLHF?");
        }
        return format;
    }

    private static Header readHeader(DataInputStream in, int format) throws IOException {
        return new Header(in.readLong(), in.readUTF(), in.readUTF(), format == FORMAT_DEFLATE ? "" : in.readUTF());
    }

    private static String manifestSha(Map<String, byte[]> entries, String which) {
        byte[] manifest = entries.get(CheckpointStore.MANIFEST);
        if (manifest == null) {
            throw new CheckpointException("checkpoint delta: the " + which + " holds no " + CheckpointStore.MANIFEST);
        }
        return CheckpointStore.sha256(manifest);
    }

    /**
     * The word-wise difference {@code now - before} of two equally long byte arrays, in planes (see the class): the
     * blocks' phases, then the planes, the words in them ordered by their base weight's exponent when
     * {@code byExponent} (format 2) or in stream order (format 1), then the bytes outside any word. With
     * {@code prior} (as long, or null) each word is the difference to its prediction ({@link #predicted}).
     */
    static byte[] difference(byte[] before, byte[] prior, byte[] now, boolean byExponent) {
        int n = now.length;
        int blocks = (n + BLOCK - 1) / BLOCK;
        byte[] out = new byte[blocks + n];
        for (int b = 0; b < blocks; b++) {
            out[b] = (byte) phase(before, now, b * BLOCK, Math.min(n, (b + 1) * BLOCK));
        }
        int[] starts = wordStarts(n, out, blocks);
        int words = starts.length;
        int[] slots = slots(before, starts, byExponent);
        for (int w = 0; w < words; w++) {
            int d = word(now, starts[w]) - predicted(before, prior, starts[w]);
            int zigzag = (d << 1) ^ (d >> 31);
            for (int p = 0; p < PLANES; p++) {
                out[blocks + p * words + slots[w]] = (byte) (zigzag >>> (8 * p));
            }
        }
        int rest = blocks + PLANES * words;
        for (int b = 0; b < blocks; b++) {
            int from = b * BLOCK;
            int to = Math.min(n, from + BLOCK);
            int start = Math.min(to, from + out[b]);
            int end = start + (to - start) / PLANES * PLANES;
            for (int i = from; i < start; i++) {
                out[rest++] = (byte) (now[i] - before[i]);
            }
            for (int i = end; i < to; i++) {
                out[rest++] = (byte) (now[i] - before[i]);
            }
        }
        return out;
    }

    /** The inverse of {@link #difference}: {@code before} plus the planed difference. */
    static byte[] sum(byte[] before, byte[] prior, byte[] planed, boolean byExponent) {
        int n = before.length;
        int blocks = (n + BLOCK - 1) / BLOCK;
        if (planed.length != blocks + n) {
            throw new CheckpointException("checkpoint delta: a difference of " + planed.length + " bytes does not fit "
                    + "a base entry of " + n + " bytes");
        }
        for (int b = 0; b < blocks; b++) {
            if (planed[b] < 0 || planed[b] >= PLANES) {
                throw new CheckpointException("checkpoint delta: block " + b + " has bad phase " + planed[b]);
            }
        }
        int[] starts = wordStarts(n, planed, blocks);
        int words = starts.length;
        int[] slots = slots(before, starts, byExponent);
        byte[] out = new byte[n];
        for (int w = 0; w < words; w++) {
            int zigzag = 0;
            for (int p = 0; p < PLANES; p++) {
                zigzag |= (planed[blocks + p * words + slots[w]] & 0xff) << (8 * p);
            }
            int d = (zigzag >>> 1) ^ -(zigzag & 1);
            int v = predicted(before, prior, starts[w]) + d;
            for (int p = 0; p < PLANES; p++) {
                out[starts[w] + p] = (byte) (v >>> (8 * p));
            }
        }
        int rest = blocks + PLANES * words;
        for (int b = 0; b < blocks; b++) {
            int from = b * BLOCK;
            int to = Math.min(n, from + BLOCK);
            int start = Math.min(to, from + planed[b]);
            int end = start + (to - start) / PLANES * PLANES;
            for (int i = from; i < start; i++) {
                out[i] = (byte) (before[i] + planed[rest++]);
            }
            for (int i = end; i < to; i++) {
                out[i] = (byte) (before[i] + planed[rest++]);
            }
        }
        return out;
    }

    /** The phase of the block {@code [from, to)}: where its words start so their top bytes change least. */
    private static int phase(byte[] before, byte[] now, int from, int to) {
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
        return (msb + 1) % PLANES;  // little-endian: the word starts after the previous word's top byte
    }

    /** Where each word starts in a stream of {@code n} bytes, block by block, given the blocks' phases. */
    private static int[] wordStarts(int n, byte[] phases, int blocks) {
        int words = 0;
        for (int b = 0; b < blocks; b++) {
            words += Math.max(0, (Math.min(n, (b + 1) * BLOCK) - b * BLOCK - phases[b]) / PLANES);
        }
        int[] starts = new int[words];
        int w = 0;
        for (int b = 0; b < blocks; b++) {
            int to = Math.min(n, (b + 1) * BLOCK);
            for (int i = b * BLOCK + phases[b]; i + PLANES <= to; i += PLANES) {
                starts[w++] = i;
            }
        }
        return starts;
    }

    /**
     * Each word's place in the planes: its rank in a stable counting sort by the exponent byte of its base word
     * (bits 23 to 30 of a float32) when {@code byExponent}, otherwise its own index.
     */
    private static int[] slots(byte[] before, int[] starts, boolean byExponent) {
        int words = starts.length;
        int[] slots = new int[words];
        if (!byExponent) {
            for (int w = 0; w < words; w++) {
                slots[w] = w;
            }
            return slots;
        }
        int[] next = new int[257];
        for (int start : starts) {
            next[exponent(before, start) + 1]++;
        }
        for (int e = 1; e < next.length; e++) {
            next[e] += next[e - 1];
        }
        for (int w = 0; w < words; w++) {
            slots[w] = next[exponent(before, starts[w])]++;
        }
        return slots;
    }

    /**
     * The word at {@code i} as predicted: the base's, plus {@value #MOMENTUM_EIGHTHS}/8 of its change from
     * {@code prior} when given (integer arithmetic modulo 2<sup>32</sup>, so exact whatever the bytes).
     */
    private static int predicted(byte[] before, byte[] prior, int i) {
        int base = word(before, i);
        if (prior == null) {
            return base;
        }
        return base + (int) (((long) (base - word(prior, i)) * MOMENTUM_EIGHTHS) >> 3);
    }

    private static int exponent(byte[] b, int i) {
        return (word(b, i) >>> 23) & 0xff;
    }

    private static int word(byte[] b, int i) {
        return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8 | (b[i + 2] & 0xff) << 16 | (b[i + 3] & 0xff) << 24;
    }

    private static byte[] unzstd(byte[] packed, int length, String name) {
        try {
            long size = Zstd.getFrameContentSize(packed);
            if (size != length) {
                throw new CheckpointException("checkpoint delta: entry " + name + " decompresses to " + size
                        + " bytes, not " + length);
            }
            return Zstd.decompress(packed, length);
        } catch (ZstdException e) {
            throw new CheckpointException("checkpoint delta: entry " + name + " is not valid zstd data: "
                    + e.getMessage(), e);
        }
    }

    /** Format 1 entries. */
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
