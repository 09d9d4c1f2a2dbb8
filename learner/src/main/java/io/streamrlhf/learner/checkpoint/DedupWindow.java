package io.streamrlhf.learner.checkpoint;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * The generation ids the learner must recognise to skip records a committed update already consumed: only those
 * it may read again. A learner (re)starts each partition at its checkpoint offset, the lowest offset not yet handed
 * to an update, and reads forward from there; records below that offset are never read again, so their ids need not
 * be remembered. Records at or after it may have been trained already (a prompt group waiting at the offset lets
 * later records be trained first) and must be.
 *
 * <p>So the window holds the ids of ledger entries at or after their partition's floor (the newest checkpoint's
 * offset), and {@link #advance} drops the rest when a checkpoint moves the floors: its size is bounded by the
 * records between the checkpoint offsets and the read position, not by how long the learner has run. Entries
 * without a recorded position (format-1 ledgers) and entries of partitions no checkpoint knows (read again from the
 * partition's beginning) are kept.
 *
 * <p>What it does not do: catch a generation id that appears twice on {@code scored} at distant offsets (an
 * upstream duplicate); the reward stream's exactly-once writes are what rule that out. Not thread-safe: the consumer
 * thread owns it.
 */
public final class DedupWindow {

    private final Map<String, Long> floors = new HashMap<>();
    private final Map<String, NavigableMap<Long, String>> byPartition = new HashMap<>();
    private final Set<String> ids = new HashSet<>();
    private long unpositioned;

    /** An empty window with no floors (everything added is kept until a floor passes it). */
    public DedupWindow() {
    }

    /**
     * An empty window whose floors are a checkpoint's offsets: {@link #add} then ignores entries below them, which is
     * how a restart builds the window from the whole ledger.
     */
    public static DedupWindow atOffsets(Map<String, Long> checkpointOffsets) {
        DedupWindow w = new DedupWindow();
        w.floors.putAll(checkpointOffsets);
        return w;
    }

    /**
     * Remembers a consumed entry, unless it lies below its partition's floor (it will not be read again).
     *
     * @return whether it was kept
     */
    public boolean add(LedgerEntry e) {
        if (!e.hasPosition()) {
            if (ids.add(e.generationId())) {
                unpositioned++;
            }
            return true;
        }
        Long floor = floors.get(e.partition());
        if (floor != null && e.offset() < floor) {
            return false;
        }
        String previous = byPartition.computeIfAbsent(e.partition(), p -> new TreeMap<>()).put(e.offset(),
                e.generationId());
        if (previous != null && !previous.equals(e.generationId())) {
            ids.remove(previous);
        }
        ids.add(e.generationId());
        return true;
    }

    /** Whether a generation id was consumed by an update and may be read again. */
    public boolean contains(String generationId) {
        return ids.contains(generationId);
    }

    /**
     * Raises the floors to a new checkpoint's offsets and forgets the ids below them.
     *
     * @return how many ids were forgotten
     */
    public int advance(Map<String, Long> checkpointOffsets) {
        int dropped = 0;
        for (Map.Entry<String, Long> o : checkpointOffsets.entrySet()) {
            floors.merge(o.getKey(), o.getValue(), Math::max);
            NavigableMap<Long, String> offsets = byPartition.get(o.getKey());
            if (offsets == null) {
                continue;
            }
            NavigableMap<Long, String> below = offsets.headMap(floors.get(o.getKey()), false);
            for (String id : below.values()) {
                if (ids.remove(id)) {
                    dropped++;
                }
            }
            below.clear();
        }
        return dropped;
    }

    /** Ids held. */
    public int size() {
        return ids.size();
    }

    /** Ids held whose position is unknown (from format-1 ledgers): never forgotten. */
    public long unpositioned() {
        return unpositioned;
    }

    /** The current floor per partition. */
    public Map<String, Long> floors() {
        return Map.copyOf(floors);
    }
}
