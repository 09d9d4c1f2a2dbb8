package io.streamrlhf.learner.checkpoint;

import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.DurableFiles;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger of consumed generations as immutable, gzip-compressed TSV segments under {@code <store root>/ledger/}.
 * Each checkpoint adds one segment holding only the entries of the updates since the previous checkpoint, so a
 * checkpoint writes O(updates since the last one) entries however long the learner has run; a checkpoint lists the
 * segments that make up its ledger (a {@link LedgerSegment} chain, oldest first), each with its sha256.
 *
 * <p>Segment names are {@code seg-<firstUpdate>-<lastUpdate>-<sha256 prefix>.tsv.gz}: content-addressed, so a
 * segment rewritten after a crash (same updates, same records) lands on the same name, and a different segment for
 * the same updates (the learner fell back to an older checkpoint) never overwrites one an older checkpoint lists.
 * Files are written to a temporary name and renamed into place.
 *
 * <p>Merging keeps a chain short: segments carry a level; when the newest {@code fanout} segments share a level L
 * they are merged into one level-(L+1) segment (a new file; the inputs stay until no kept checkpoint lists them).
 * Levels therefore never increase along the chain and each level holds fewer than {@code fanout} segments, so a
 * chain over U checkpoints has at most (fanout-1)·(log_fanout U + 1) segments and each entry is copied about
 * log_fanout U times in all. A merge is a byte concatenation of the inputs: a file of concatenated gzip members is
 * itself a valid gzip file ({@link GZIPInputStream} reads every member), so merging never decompresses.
 */
public final class SegmentedLedger {

    /** The ledger directory's name under the store root. */
    public static final String DIR = "ledger";
    /** Segments of one level merged together; see the class comment. */
    public static final int DEFAULT_FANOUT = 8;
    /** The line format segments are written in. */
    static final int FORMAT = 2;

    private static final Logger LOG = LoggerFactory.getLogger(SegmentedLedger.class);
    private static final Pattern SEGMENT = Pattern.compile("seg-\\d{12}-\\d{12}-[0-9a-f]{12}\\.tsv\\.gz");
    private static final String TEMPORARY = ".tmp-";

    private final Path storeRoot;
    private final Path dir;
    private final int fanout;

    /**
     * The ledger of the checkpoint store at {@code storeRoot} (its directory is created when missing).
     *
     * @param fanout how many same-level segments are merged into one, at least 2
     */
    public SegmentedLedger(Path storeRoot, int fanout) {
        if (fanout < 2) {
            throw new IllegalArgumentException("ledger merge fanout must be >= 2, got " + fanout);
        }
        this.storeRoot = storeRoot.toAbsolutePath();
        this.dir = this.storeRoot.resolve(DIR);
        this.fanout = fanout;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new CheckpointException("cannot create the ledger directory " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The directory the segments are in. */
    public Path dir() {
        return dir;
    }

    /** How many same-level segments are merged into one. */
    public int fanout() {
        return fanout;
    }

    /** The file a segment names. */
    public Path path(LedgerSegment segment) {
        return storeRoot.resolve(segment.file());
    }

    /**
     * Writes {@code added} as a new segment after {@code chain} and merges where the chain's tail has {@code fanout}
     * segments of one level; returns the new chain (for the next checkpoint to list). Format-1 files in the chain are
     * first copied into segments (they live in a checkpoint's directory, which pruning removes). Nothing listed by
     * {@code chain} is changed or deleted.
     *
     * @param added entries of the updates after the chain's last one, in update order
     * @throws IllegalArgumentException when {@code added} is out of update order or overlaps the chain
     */
    public List<LedgerSegment> append(List<LedgerSegment> chain, List<LedgerEntry> added) {
        List<LedgerSegment> out = new ArrayList<>(chain.size() + 1);
        for (LedgerSegment s : chain) {
            out.add(s.format() == FORMAT ? s : migrate(s));
        }
        if (!added.isEmpty()) {
            long last = lastUpdate(out);
            long previous = last;
            for (LedgerEntry e : added) {
                if (e.update() <= last || e.update() < previous) {
                    throw new IllegalArgumentException("ledger entry " + e + " is not after update " + previous
                            + " (the chain ends at update " + last + ")");
                }
                previous = e.update();
            }
            out.add(writeSegment(added, 0));
            mergeTail(out);
        }
        return List.copyOf(out);
    }

    /**
     * Writes a segment another store wrote ({@code file} as a chain lists it, {@code ledger/seg-...tsv.gz}) from its
     * bytes, unless a file of that name with those bytes is there already; names are content-addressed, so an
     * existing one that differs is damaged and replaced. The caller verifies it against the chain afterwards.
     *
     * @throws CheckpointException naming the file when the name is not a segment's or the write fails
     */
    public void install(String file, byte[] data) {
        String name = file.startsWith(DIR + "/") ? file.substring(DIR.length() + 1) : "";
        if (!SEGMENT.matcher(name).matches()) {
            throw new CheckpointException("'" + file + "' is not a ledger segment's name (" + DIR + "/" + SEGMENT
                    + ")");
        }
        Path target = dir.resolve(name);
        try {
            if (Files.exists(target) && Arrays.equals(Files.readAllBytes(target), data)) {
                return;
            }
        } catch (IOException e) {
            LOG.warn("rewriting the unreadable ledger segment {}: {}", target, e.getMessage());
        }
        Path tmp = dir.resolve(TEMPORARY + UUID.randomUUID());
        try {
            Files.write(tmp, data);
            moveIntoPlace(tmp, target);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new CheckpointException("cannot write ledger segment " + target + ": " + e.getMessage(), e);
        }
    }

    /** The last update a chain covers (0 for an empty chain). */
    public static long lastUpdate(List<LedgerSegment> chain) {
        long last = 0;
        for (LedgerSegment s : chain) {
            if (s.entries() > 0) {
                last = Math.max(last, s.lastUpdate());
            }
        }
        return last;
    }

    /**
     * Checks that a segment's file exists with the size and sha256 the chain lists.
     *
     * @throws CheckpointException naming the file when it is missing or differs
     */
    public void verify(LedgerSegment segment) {
        Path p = path(segment);
        try (DigestInputStream in = new DigestInputStream(Files.newInputStream(p), sha256())) {
            long size = in.transferTo(OutputStream.nullOutputStream());
            check(segment, size, in.getMessageDigest());
        } catch (NoSuchFileException e) {
            throw new CheckpointException("ledger segment " + segment.file() + " is missing", e);
        } catch (IOException e) {
            throw new CheckpointException("ledger segment " + segment.file() + " is unreadable: " + e.getMessage(), e);
        }
    }

    /**
     * Hands every entry of the chain to {@code action}, oldest first, checking each file's sha256 and entry count as
     * it goes. A failed check throws after the entries of that file read so far were handed over: verify first
     * (loading a checkpoint does) when that matters.
     *
     * @throws CheckpointException naming the file when one is missing or fails its check
     */
    public void forEach(List<LedgerSegment> chain, Consumer<LedgerEntry> action) {
        for (LedgerSegment s : chain) {
            Path p = path(s);
            long count = 0;
            try (DigestInputStream raw = new DigestInputStream(Files.newInputStream(p), sha256());
                 BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw, 1 << 16),
                         StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.isEmpty()) {
                        continue;
                    }
                    try {
                        action.accept(LedgerEntry.parse(line, s.format()));
                    } catch (IllegalArgumentException e) {
                        throw new CheckpointException("ledger segment " + s.file() + ": " + e.getMessage(), e);
                    }
                    count++;
                }
                // the sha256 covers every byte, including any the gzip reader did not need
                raw.transferTo(OutputStream.nullOutputStream());
                check(s, Files.size(p), raw.getMessageDigest());
            } catch (NoSuchFileException e) {
                throw new CheckpointException("ledger segment " + s.file() + " is missing", e);
            } catch (IOException | UncheckedIOException e) {
                throw new CheckpointException("ledger segment " + s.file() + " is unreadable: " + e.getMessage(), e);
            }
            if (count != s.entries()) {
                throw new CheckpointException("ledger segment " + s.file() + " holds " + count + " entries, its "
                        + "checkpoint lists " + s.entries());
            }
        }
    }

    /** The whole ledger of a chain, oldest first (the segments concatenated in order). */
    public List<LedgerEntry> readAll(List<LedgerSegment> chain) {
        List<LedgerEntry> out = new ArrayList<>();
        forEach(chain, out::add);
        return out;
    }

    /** Names of the segment files present, ascending. */
    public Set<String> files() {
        Set<String> out = new TreeSet<>();
        try (Stream<Path> list = Files.list(dir)) {
            list.map(p -> p.getFileName().toString()).filter(n -> SEGMENT.matcher(n).matches()).forEach(out::add);
        } catch (IOException e) {
            throw new CheckpointException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * Deletes the segment files that no listed chain names.
     *
     * @param referenced the {@link LedgerSegment#file()}s of every kept checkpoint's chain
     * @return how many files were deleted
     */
    public int deleteUnreferenced(Set<String> referenced) {
        int deleted = 0;
        for (String name : files()) {
            if (!referenced.contains(DIR + "/" + name)) {
                try {
                    Files.deleteIfExists(dir.resolve(name));
                    deleted++;
                } catch (IOException e) {
                    LOG.warn("could not delete unreferenced ledger segment {}: {}", name, e.getMessage());
                }
            }
        }
        return deleted;
    }

    /** Removes temporaries left by a write that a crash interrupted. */
    public void removeTemporaries() {
        try (Stream<Path> list = Files.list(dir)) {
            list.filter(p -> p.getFileName().toString().startsWith(TEMPORARY)).forEach(p -> {
                LOG.info("removing {} left by an interrupted ledger write", p.getFileName());
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    LOG.warn("could not delete {}: {}", p, e.getMessage());
                }
            });
        } catch (IOException e) {
            throw new CheckpointException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Merges the tail while its newest {@code fanout} segments share a level. */
    private void mergeTail(List<LedgerSegment> chain) {
        while (chain.size() >= fanout) {
            int level = chain.get(chain.size() - 1).level();
            List<LedgerSegment> tail = chain.subList(chain.size() - fanout, chain.size());
            if (tail.stream().anyMatch(s -> s.level() != level)) {
                return;
            }
            LedgerSegment merged = concatenate(List.copyOf(tail), level + 1);
            tail.clear();
            chain.add(merged);
        }
    }

    private LedgerSegment writeSegment(List<LedgerEntry> entries, int level) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Writer w = new OutputStreamWriter(new GZIPOutputStream(bytes, 1 << 16), StandardCharsets.UTF_8)) {
            for (LedgerEntry e : entries) {
                w.write(e.toLine());
                w.write('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);  // in memory: cannot happen
        }
        byte[] data = bytes.toByteArray();
        MessageDigest digest = sha256();
        digest.update(data);
        String sha = HexFormat.of().formatHex(digest.digest());
        long first = entries.get(0).update();
        long last = entries.get(entries.size() - 1).update();
        String name = name(first, last, sha);
        Path tmp = dir.resolve(TEMPORARY + UUID.randomUUID());
        try {
            Files.write(tmp, data);
            moveIntoPlace(tmp, dir.resolve(name));
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new CheckpointException("cannot write ledger segment " + dir.resolve(name) + ": " + e.getMessage(), e);
        }
        return new LedgerSegment(DIR + "/" + name, FORMAT, level, first, last, entries.size(), sha, data.length);
    }

    /** Concatenates segments' bytes (each checked against its sha256 on the way) into one new segment. */
    private LedgerSegment concatenate(List<LedgerSegment> inputs, int level) {
        Path tmp = dir.resolve(TEMPORARY + UUID.randomUUID());
        MessageDigest outDigest = sha256();
        long entries = 0;
        long size = 0;
        try (OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp), outDigest)) {
            for (LedgerSegment s : inputs) {
                try (DigestInputStream in = new DigestInputStream(Files.newInputStream(path(s)), sha256())) {
                    long n = in.transferTo(out);
                    check(s, n, in.getMessageDigest());
                    size += n;
                    entries += s.entries();
                }
            }
        } catch (NoSuchFileException e) {
            deleteQuietly(tmp);
            throw new CheckpointException("cannot merge the ledger: segment " + e.getFile() + " is missing", e);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new CheckpointException("cannot merge ledger segments: " + e.getMessage(), e);
        } catch (CheckpointException e) {
            deleteQuietly(tmp);
            throw e;
        }
        String sha = HexFormat.of().formatHex(outDigest.digest());
        long first = inputs.get(0).firstUpdate();
        long last = inputs.get(inputs.size() - 1).lastUpdate();
        String name = name(first, last, sha);
        try {
            moveIntoPlace(tmp, dir.resolve(name));
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new CheckpointException("cannot write ledger segment " + dir.resolve(name) + ": " + e.getMessage(), e);
        }
        LOG.info("merged {} ledger segments (updates {}..{}, {} entries, {} bytes) into {}", inputs.size(), first, last,
                entries, size, name);
        return new LedgerSegment(DIR + "/" + name, FORMAT, level, first, last, entries, sha, size);
    }

    /** Rewrites a format-1 ledger file (inside a checkpoint directory) as a segment of the ledger directory. */
    private LedgerSegment migrate(LedgerSegment legacy) {
        List<LedgerEntry> entries = readAll(List.of(legacy));
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("format-1 ledger " + legacy.file() + " is empty; drop it from the chain");
        }
        LOG.info("copying the format-1 ledger {} ({} entries) into a segment", legacy.file(), entries.size());
        return writeSegment(entries, legacy.level());
    }

    private void check(LedgerSegment s, long size, MessageDigest digest) {
        String actual = HexFormat.of().formatHex(digest.digest());
        if (size != s.size() || !actual.equals(s.sha256())) {
            throw new CheckpointException("ledger segment " + s.file() + " fails its check (listed sha256 "
                    + s.sha256() + ", " + s.size() + " bytes; file " + actual + ", " + size + " bytes)");
        }
    }

    private static String name(long first, long last, String sha) {
        return String.format("seg-%012d-%012d-%s.tsv.gz", first, last, sha.substring(0, 12));
    }

    private static void moveIntoPlace(Path tmp, Path target) throws IOException {
        DurableFiles.moveIntoPlace(tmp, target, true);
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", p, e.getMessage());
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
