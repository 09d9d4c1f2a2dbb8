package io.streamrlhf.learner.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A long run without the model: 200 updates of 64 samples through the store, one checkpoint per update, the way
 * {@code LearnerService} commits (append the update's entries as a segment, save, prune, advance the de-duplication
 * window). What each checkpoint writes, the chain it lists and the ids kept in memory must not grow with the run.
 */
class BoundedLedgerTest {

    private static final Logger LOG = LoggerFactory.getLogger(BoundedLedgerTest.class);
    private static final int UPDATES = 200;
    private static final int PER_PARTITION = 32;  // two partitions: 64 samples per update
    private static final int GROUP = 4;
    private static final List<String> PARTITIONS = List.of("rlhf.scored-0", "rlhf.scored-1");

    @TempDir
    Path dir;

    /**
     * Update u reads offsets [32(u-1), 32u) of each partition. The group at [32u-8, 32u-4) is incomplete when the
     * batch closes and waits for update u+1, while [32u-4, 32u) is trained in update u: the checkpoint offset
     * 32u-8 then sits below records already trained, the case the window must keep.
     */
    private static List<LedgerEntry> updateEntries(long u) {
        List<LedgerEntry> out = new ArrayList<>();
        for (String p : PARTITIONS) {
            long start = PER_PARTITION * (u - 1);
            List<Long> offsets = new ArrayList<>();
            if (u > 1) {
                for (long o = start - 2 * GROUP; o < start - GROUP; o++) {
                    offsets.add(o);  // the group left waiting by the previous update
                }
            }
            for (long o = start; o < start + PER_PARTITION; o++) {
                boolean waits = o >= start + PER_PARTITION - 2 * GROUP && o < start + PER_PARTITION - GROUP;
                if (!waits) {
                    offsets.add(o);
                }
            }
            for (long o : offsets) {
                out.add(new LedgerEntry(p + "@" + o, u, o % 17 == 0 ? LedgerEntry.Outcome.DROPPED_STALE
                        : LedgerEntry.Outcome.TRAINED, p, o));
            }
        }
        return out;
    }

    @Test
    void checkpointsChainAndDedupSetStayBoundedOverTwoHundredUpdates() throws Exception {
        LearnerCheckpointStore store = new LearnerCheckpointStore(dir);
        int fanout = store.ledger().fanout();
        DedupWindow window = new DedupWindow();
        List<LedgerSegment> chain = List.of();
        long entries = 0;
        long stateBytesFirst = 0;
        long stateBytesMax = 0;
        long level0Max = 0;
        long level0Min = Long.MAX_VALUE;
        int chainMax = 0;
        int windowMax = 0;
        long segmentBytesWritten = 0;
        Set<String> seenFiles = new HashSet<>();
        for (long u = 1; u <= UPDATES; u++) {
            List<LedgerEntry> added = updateEntries(u);
            added.forEach(window::add);
            windowMax = Math.max(windowMax, window.size());
            entries += added.size();
            Map<String, Long> offsets = new TreeMap<>();
            for (String p : PARTITIONS) {
                offsets.put(p, PER_PARTITION * u - 2L * GROUP);
            }
            chain = store.appendLedger(chain, added);
            for (String f : store.ledger().files()) {
                if (seenFiles.add(f)) {
                    segmentBytesWritten += Files.size(store.ledger().dir().resolve(f));
                }
            }
            store.save(new LearnerCheckpoint(u, u - 1, u, u, new double[] {u, 0, 1},
                    LearnerCheckpointStoreTest.policy(u), offsets, chain, Map.of("reward/mean", 0.5)));
            store.prune(5);
            window.advance(offsets);

            LedgerSegment own = chain.get(chain.size() - 1);
            if (own.level() == 0) {
                level0Max = Math.max(level0Max, own.size());
                level0Min = Math.min(level0Min, own.size());
            }
            long stateBytes = Files.size(store.dir(u).resolve("learner.json"));
            stateBytesFirst = u == 1 ? stateBytes : stateBytesFirst;
            stateBytesMax = Math.max(stateBytesMax, stateBytes);
            chainMax = Math.max(chainMax, chain.size());
            // after each checkpoint only the trained records past the waiting groups can be read again
            assertThat(window.size()).as("ids kept after update %d", u).isEqualTo(PARTITIONS.size() * GROUP);
            assertThat(store.ledger().files().size()).as("segment files on disk after update %d", u)
                    .isLessThanOrEqualTo(2 * (fanout - 1) * 3 + 5);
        }
        long ledgerBytes = chain.stream().mapToLong(LedgerSegment::size).sum();
        long onDisk = 0;
        for (String f : store.ledger().files()) {
            onDisk += Files.size(store.ledger().dir().resolve(f));
        }
        LOG.info("{} updates, {} entries: learner.json {}..{} bytes, level-0 segment {}..{} bytes, chain <= {} "
                        + "segments (now {}), ledger {} bytes, {} bytes of segments on disk, {} bytes written in all "
                        + "({}x), window <= {} ids (after a checkpoint {})", UPDATES, entries, stateBytesFirst,
                stateBytesMax, level0Min, level0Max, chainMax, chain.size(), ledgerBytes, onDisk, segmentBytesWritten,
                String.format("%.2f", segmentBytesWritten / (double) ledgerBytes), windowMax, window.size());

        // what a checkpoint writes does not grow with the run: its own segment and a chain of O(log) entries
        assertThat(chainMax).as("chain length").isLessThanOrEqualTo((fanout - 1) * 3);
        assertThat(level0Max).as("a checkpoint's own segment").isLessThan(2 * level0Min);
        assertThat(stateBytesMax).as("learner.json").isLessThan(stateBytesFirst + (long) chainMax * 400);
        // each entry is copied about log_fanout(200) = 2.5 times by merges, not once per checkpoint
        assertThat(segmentBytesWritten).isLessThan(4 * ledgerBytes);
        assertThat(windowMax).as("window before pruning").isLessThanOrEqualTo(PARTITIONS.size() * (PER_PARTITION + GROUP));

        // the full ledger: every record exactly once, in update order
        LearnerCheckpoint newest = store.loadNewest().orElseThrow();
        assertThat(newest.version()).isEqualTo(UPDATES);
        List<LedgerEntry> ledger = store.readLedger(newest);
        assertThat(ledger).hasSize((int) entries);
        assertThat(ledger.stream().map(LedgerEntry::generationId).distinct().count()).isEqualTo(entries);
        assertThat(ledger).extracting(LedgerEntry::update).isSorted();
        for (String p : PARTITIONS) {
            // no gaps: every offset below the waiting group is in the ledger
            assertThat(ledger.stream().filter(e -> e.partition().equals(p)).map(LedgerEntry::offset).distinct()
                    .count()).isEqualTo((long) PER_PARTITION * UPDATES - GROUP);
        }

        // a restart builds the same window from the ledger
        DedupWindow restarted = DedupWindow.atOffsets(newest.offsets());
        store.forEachLedgerEntry(newest, restarted::add);
        assertThat(restarted.size()).isEqualTo(window.size());
        long last = (long) PER_PARTITION * UPDATES;
        for (long o = last - GROUP; o < last; o++) {
            assertThat(restarted.contains("rlhf.scored-0@" + o)).isTrue();
        }
        assertThat(restarted.contains("rlhf.scored-0@" + (last - 2 * GROUP - 1))).isFalse();
    }
}
