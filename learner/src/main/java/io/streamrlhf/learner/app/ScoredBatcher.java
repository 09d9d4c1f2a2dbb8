package io.streamrlhf.learner.app;

import io.streamrlhf.learner.ppo.RolloutSample;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.LongSupplier;

/**
 * Assembles consumed {@code scored} records into rollout batches and knows, per partition, the
 * offset a checkpoint may record: every record before it has been handed out in a batch (or
 * skipped as already trained), so a learner restarted from the checkpoint re-reads exactly the
 * records that no committed update saw.
 *
 * <p>With {@code keepGroups}, a prompt's samples are released only together, once all
 * {@code group_size} of them have arrived (workers write a group in one transaction, and the
 * {@code prompt_id} key keeps it in one partition). A batch closes at {@code batchSequences}
 * samples or, when {@code batchTokens > 0}, at that many response tokens, never splitting a group.
 * A group some of whose samples never arrive (the reward stream dead-lettered one, say) would hold
 * its partition's checkpoint offset back for ever; after {@code groupTimeoutMs} from its first
 * sample it is released with the samples it has (group baselines then use the members present,
 * and a lone sample gets advantage 0), and {@code groups/released_incomplete} counts it.
 * Not thread-safe: the consumer thread owns it.
 */
public final class ScoredBatcher {

    /** A sample and where it was read. */
    public record Positioned(RolloutSample sample, String partition, long offset) {
    }

    private final int batchSequences;
    private final int batchTokens;
    private final boolean keepGroups;
    private final long groupTimeoutMs;
    private final LongSupplier clockMs;
    private final Map<String, List<Positioned>> openGroups = new LinkedHashMap<>();
    private final Map<String, Long> openedAt = new HashMap<>();
    private long releasedIncomplete;
    private final Deque<List<Positioned>> ready = new ArrayDeque<>();
    private final Map<String, TreeSet<Long>> pending = new HashMap<>();
    private final Map<String, Long> next = new TreeMap<>();

    /**
     * @param batchSequences samples per batch
     * @param batchTokens    response tokens per batch, 0 for no token limit
     * @param keepGroups     release a prompt's samples only together
     */
    public ScoredBatcher(int batchSequences, int batchTokens, boolean keepGroups) {
        this(batchSequences, batchTokens, keepGroups, Long.MAX_VALUE, System::currentTimeMillis);
    }

    /**
     * @param batchSequences samples per batch
     * @param batchTokens    response tokens per batch, 0 for no token limit
     * @param keepGroups     release a prompt's samples only together
     * @param groupTimeoutMs how long an incomplete group waits for its missing samples
     * @param clockMs        the clock the timeout is measured on (milliseconds)
     */
    public ScoredBatcher(int batchSequences, int batchTokens, boolean keepGroups, long groupTimeoutMs,
                         LongSupplier clockMs) {
        if (groupTimeoutMs <= 0) {
            throw new IllegalArgumentException("groupTimeoutMs must be > 0, got " + groupTimeoutMs);
        }
        this.batchSequences = batchSequences;
        this.batchTokens = batchTokens;
        this.keepGroups = keepGroups;
        this.groupTimeoutMs = groupTimeoutMs;
        this.clockMs = clockMs;
    }

    /** Starts a partition at an offset (a checkpoint's, or where the consumer begins). */
    public void start(String partition, long offset) {
        next.put(partition, offset);
    }

    /** A record that needs no training (already in the ledger, or sent to the DLQ). */
    public void skip(String partition, long offset) {
        next.merge(partition, offset + 1, Math::max);
    }

    /** A record to train on. */
    public void add(RolloutSample sample, String partition, long offset) {
        next.merge(partition, offset + 1, Math::max);
        pending.computeIfAbsent(partition, p -> new TreeSet<>()).add(offset);
        Positioned p = new Positioned(sample, partition, offset);
        if (!keepGroups || sample.groupSize() <= 1) {
            ready.add(List.of(p));
            return;
        }
        List<Positioned> group = openGroups.computeIfAbsent(sample.promptId(), k -> new ArrayList<>());
        openedAt.putIfAbsent(sample.promptId(), clockMs.getAsLong());
        group.add(p);
        if (group.size() >= sample.groupSize()) {
            ready.add(openGroups.remove(sample.promptId()));
            openedAt.remove(sample.promptId());
        }
    }

    /** Releases the groups that have waited longer than the group timeout, incomplete as they are. */
    private void expireGroups() {
        if (openGroups.isEmpty()) {
            return;
        }
        long now = clockMs.getAsLong();
        // Oldest first: openGroups keeps arrival order, so release stops at the first young group.
        var it = openGroups.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<String, List<Positioned>> e = it.next();
            long since = openedAt.get(e.getKey());
            if (now - since < groupTimeoutMs) {
                break;
            }
            ready.add(e.getValue());
            openedAt.remove(e.getKey());
            it.remove();
            releasedIncomplete++;
        }
    }

    /** Groups released incomplete after the group timeout, since this batcher was made. */
    public long releasedIncomplete() {
        return releasedIncomplete;
    }

    /**
     * The next full batch, if enough complete groups are ready. Its records count as handed out:
     * {@link #checkpointOffsets()} moves past them.
     */
    public Optional<List<Positioned>> nextBatch() {
        expireGroups();
        int sequences = 0;
        int tokens = 0;
        int groups = 0;
        for (List<Positioned> group : ready) {
            if (sequences > 0 && (sequences + group.size() > batchSequences
                    || (batchTokens > 0 && tokens >= batchTokens))) {
                break;
            }
            sequences += group.size();
            for (Positioned p : group) {
                tokens += p.sample().responseLength();
            }
            groups++;
            if (sequences >= batchSequences || (batchTokens > 0 && tokens >= batchTokens)) {
                break;
            }
        }
        boolean full = sequences >= batchSequences || (batchTokens > 0 && tokens >= batchTokens);
        if (!full) {
            return Optional.empty();
        }
        List<Positioned> batch = new ArrayList<>(sequences);
        for (int i = 0; i < groups; i++) {
            for (Positioned p : ready.poll()) {
                batch.add(p);
                pending.get(p.partition()).remove(p.offset());
            }
        }
        return Optional.of(batch);
    }

    /**
     * Per partition, the offset a checkpoint records now: the lowest offset not yet handed out,
     * or the next offset to read when everything read has been handed out.
     */
    public Map<String, Long> checkpointOffsets() {
        Map<String, Long> out = new TreeMap<>(next);
        pending.forEach((partition, offsets) -> {
            if (!offsets.isEmpty()) {
                out.put(partition, offsets.first());
            }
        });
        return out;
    }

    /** Samples read but not yet in a batch. */
    public int waiting() {
        return pending.values().stream().mapToInt(Set::size).sum();
    }
}
