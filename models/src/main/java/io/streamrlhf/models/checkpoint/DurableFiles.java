package io.streamrlhf.models.checkpoint;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.CopyOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Renames that survive a power cut. A rename is atomic, but without fsync the file system may persist the new
 * name before the data it points to, so after a crash a "complete" checkpoint can hold empty or torn files. Here
 * every file (and directory) under the source is fsynced before the rename, and the directory that received the
 * new name afterwards, so a rename that returned is a rename that stays, with its contents.
 *
 * <p>Written by hand: the JDK has no durable move, and {@code FileChannel.force} on a directory is the known idiom
 * (on Windows, where directories cannot be opened, that step is skipped; NTFS journals renames).
 */
public final class DurableFiles {
    private static final boolean WINDOWS = System.getProperty("os.name", "").toLowerCase().startsWith("windows");
    private static final ThreadLocal<List<String>> RECORDING = new ThreadLocal<>();

    private DurableFiles() {
    }

    /**
     * Fsyncs {@code from} (a file, or a directory with everything under it), renames it atomically to {@code to}
     * (a plain rename where the file system has no atomic one), then fsyncs the directories holding both names.
     *
     * @param replace whether an existing {@code to} file may be replaced
     */
    public static void moveIntoPlace(Path from, Path to, boolean replace) throws IOException {
        syncTree(from);
        List<CopyOption> options = new ArrayList<>(List.of(StandardCopyOption.ATOMIC_MOVE));
        if (replace) {
            options.add(StandardCopyOption.REPLACE_EXISTING);
        }
        try {
            Files.move(from, to, options.toArray(CopyOption[]::new));
        } catch (AtomicMoveNotSupportedException e) {
            options.remove(StandardCopyOption.ATOMIC_MOVE);
            Files.move(from, to, options.toArray(CopyOption[]::new));
        }
        record("move " + from + " -> " + to);
        Path target = to.toAbsolutePath().getParent();
        sync(target);
        Path source = from.toAbsolutePath().getParent();
        if (!source.equals(target)) {
            sync(source);
        }
    }

    /** Fsyncs a file, or every file and directory under a directory (children first). */
    public static void syncTree(Path path) throws IOException {
        if (!Files.isDirectory(path)) {
            sync(path);
            return;
        }
        List<Path> all;
        try (Stream<Path> walk = Files.walk(path)) {
            all = walk.sorted(Comparator.comparingInt(Path::getNameCount).reversed()
                    .thenComparing(Comparator.naturalOrder())).toList();
        }
        for (Path p : all) {
            sync(p);
        }
    }

    /** Fsyncs one file or directory. */
    public static void sync(Path path) throws IOException {
        boolean directory = Files.isDirectory(path);
        if (directory && WINDOWS) {
            return;
        }
        try (FileChannel channel = FileChannel.open(path, directory ? StandardOpenOption.READ
                : StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        record("sync " + path);
    }

    /**
     * Records, on the calling thread, each fsync ({@code "sync <path>"}) and rename ({@code "move <from> -> <to>"})
     * until the returned recording is closed, so a test can check that a writer syncs before it trusts a rename.
     */
    public static Recording record() {
        List<String> events = new ArrayList<>();
        RECORDING.set(events);
        return new Recording(events);
    }

    private static void record(String event) {
        List<String> events = RECORDING.get();
        if (events != null) {
            events.add(event);
        }
    }

    /** The fsyncs and renames of the calling thread while open. */
    public static final class Recording implements AutoCloseable {
        private final List<String> events;

        private Recording(List<String> events) {
            this.events = events;
        }

        /** The events so far, in order. */
        public List<String> events() {
            return List.copyOf(events);
        }

        @Override
        public void close() {
            RECORDING.remove();
        }
    }
}
