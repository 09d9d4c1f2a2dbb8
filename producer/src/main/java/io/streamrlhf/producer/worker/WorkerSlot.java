package io.streamrlhf.producer.worker;

import io.streamrlhf.ops.LocalHost;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A worker id that survives a restart: {@code <host>-w<n>}, where {@code n} is the lowest slot of a directory
 * whose lock file this process could lock. The operating system drops a dead process's locks, so a worker
 * restarted on the same host takes its predecessor's slot, hence its id and its {@code transactional.id}, and
 * fences the dead instance's open transaction at once instead of leaving it to block {@code read_committed}
 * readers until it times out. Workers running side by side on one host hold different slots. (A {@code host-pid}
 * id changes with every start and fences nothing.)
 */
public final class WorkerSlot implements AutoCloseable {
    private static final Map<Path, WorkerSlot> DEFAULTS = new ConcurrentHashMap<>();
    /** More slots than workers one host runs; the search stops there rather than filling a disk with lock files. */
    static final int MAX_SLOTS = 4096;

    private final String id;
    private final FileChannel channel;
    private final FileLock lock;

    private WorkerSlot(String id, FileChannel channel, FileLock lock) {
        this.id = id;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * The default worker id of this process for slots in {@code dir}: claimed once, and held until the process
     * exits.
     */
    public static String defaultId(Path dir) {
        return DEFAULTS.computeIfAbsent(dir.toAbsolutePath().normalize(), d -> claim(d, LocalHost.name())).id();
    }

    /**
     * Claims the lowest free slot of {@code dir} for {@code host}.
     *
     * @throws IllegalStateException when all {@link #MAX_SLOTS} slots are held
     * @throws UncheckedIOException  when the directory or a lock file cannot be written
     */
    static WorkerSlot claim(Path dir, String host) {
        try {
            Files.createDirectories(dir);
            for (int n = 0; n < MAX_SLOTS; n++) {
                Path file = dir.resolve("slot-" + n + ".lock");
                FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock;
                try {
                    lock = channel.tryLock();
                } catch (OverlappingFileLockException e) {
                    lock = null;  // held by this very process (another worker of this JVM)
                }
                if (lock != null) {
                    return new WorkerSlot(host + "-w" + n, channel, lock);
                }
                channel.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot claim a worker id slot in " + dir + ": " + e.getMessage()
                    + "; set worker.id or worker.id.dir", e);
        }
        throw new IllegalStateException("all " + MAX_SLOTS + " worker id slots in " + dir + " are held; set worker.id");
    }

    /** The id, {@code <host>-w<n>}. */
    public String id() {
        return id;
    }

    /** Gives the slot up, as the operating system does when the process dies. */
    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot release worker id slot " + id + ": " + e.getMessage(), e);
        }
    }
}
