package io.streamrlhf.learner.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class DedupWindowTest {

    private static LedgerEntry at(String id, String partition, long offset) {
        return new LedgerEntry(id, 1, LedgerEntry.Outcome.TRAINED, partition, offset);
    }

    @Test
    void forgetsIdsBelowTheCheckpointOffsetAndKeepsThoseAtOrAfterIt() {
        DedupWindow w = new DedupWindow();
        // partition 0: a prompt group waits at offset 10 while 11..20 are trained
        for (long o = 11; o <= 20; o++) {
            w.add(at("p0-" + o, "t-0", o));
        }
        for (long o = 0; o < 5; o++) {
            w.add(at("p1-" + o, "t-1", o));
        }
        w.add(at("p2-0", "t-2", 0));  // a partition the checkpoint does not list
        assertThat(w.size()).isEqualTo(16);

        // the checkpoint records offset 10 for t-0 (the waiting group) and 5 for t-1
        int forgotten = w.advance(Map.of("t-0", 10L, "t-1", 5L));
        assertThat(forgotten).isEqualTo(5);
        assertThat(w.contains("p0-11")).as("trained after the waiting group: may be read again").isTrue();
        assertThat(w.contains("p0-20")).isTrue();
        assertThat(w.contains("p1-4")).as("below its partition's offset: never read again").isFalse();
        assertThat(w.contains("p2-0")).as("partition read again from its beginning").isTrue();
        assertThat(w.size()).isEqualTo(11);

        // the group is trained; the next checkpoint moves t-0 past everything
        w.add(at("p0-10", "t-0", 10));
        assertThat(w.advance(Map.of("t-0", 21L, "t-1", 5L))).isEqualTo(11);
        assertThat(w.size()).isEqualTo(1);
        // a floor never moves back
        w.advance(Map.of("t-0", 3L));
        assertThat(w.floors()).containsEntry("t-0", 21L);
        assertThat(w.add(at("late", "t-0", 15))).isFalse();
    }

    @Test
    void aRestartKeepsOnlyEntriesAtOrAfterTheOffsets() {
        DedupWindow w = DedupWindow.atOffsets(Map.of("t-0", 10L));
        assertThat(w.add(at("old", "t-0", 9))).isFalse();
        assertThat(w.add(at("edge", "t-0", 10))).isTrue();
        assertThat(w.add(at("new", "t-0", 12))).isTrue();
        assertThat(w.add(new LedgerEntry("legacy", 1, LedgerEntry.Outcome.TRAINED))).isTrue();
        assertThat(w.contains("old")).isFalse();
        assertThat(w.contains("edge")).isTrue();
        assertThat(w.contains("legacy")).isTrue();
        assertThat(w.unpositioned()).isEqualTo(1);
        // position-less entries survive any advance
        w.advance(Map.of("t-0", 100L));
        assertThat(w.size()).isEqualTo(1);
        assertThat(w.contains("legacy")).isTrue();
    }
}
