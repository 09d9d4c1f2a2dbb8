package io.streamrlhf.learner.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.learner.ppo.RolloutSample;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ScoredBatcherTest {

    private static RolloutSample sample(String id, String prompt, int groupSize, int responseTokens) {
        return new RolloutSample(id, prompt, groupSize, 0, new int[] {1, 2}, new int[responseTokens],
                new float[responseTokens], 0, 1.0, 0.0);
    }

    private static List<String> ids(List<ScoredBatcher.Positioned> batch) {
        return batch.stream().map(p -> p.sample().generationId()).toList();
    }

    @Test
    void keepsGroupsTogetherAndCheckpointsBeforeUnreleasedRecords() {
        ScoredBatcher b = new ScoredBatcher(4, 0, true);
        b.start("t-0", 10);
        b.add(sample("a0", "a", 2, 3), "t-0", 10);
        b.add(sample("b0", "b", 2, 3), "t-0", 11);
        b.add(sample("a1", "a", 2, 3), "t-0", 12);
        assertThat(b.nextBatch()).isEmpty();  // only group a is complete: 2 of 4
        b.add(sample("c0", "c", 2, 3), "t-0", 13);
        b.add(sample("c1", "c", 2, 3), "t-0", 14);
        assertThat(ids(b.nextBatch().orElseThrow())).containsExactly("a0", "a1", "c0", "c1");
        // b0 (offset 11) is still open: a checkpoint must re-read from there
        assertThat(b.checkpointOffsets()).isEqualTo(Map.of("t-0", 11L));
        assertThat(b.waiting()).isEqualTo(1);
        b.add(sample("b1", "b", 2, 3), "t-0", 15);
        b.skip("t-0", 16);
        assertThat(b.checkpointOffsets()).isEqualTo(Map.of("t-0", 11L));
        assertThat(b.nextBatch()).isEmpty();
    }

    @Test
    void withoutGroupsBatchesBySequencesOrTokensAndAdvancesOffsets() {
        ScoredBatcher b = new ScoredBatcher(3, 10, false);
        b.start("t-0", 0);
        b.start("t-1", 0);
        b.add(sample("x", "p", 4, 6), "t-0", 0);
        b.add(sample("y", "q", 4, 6), "t-1", 0);
        b.add(sample("z", "r", 4, 6), "t-0", 1);
        // 12 tokens ≥ 10 after two samples: the token limit closes the batch first
        assertThat(ids(b.nextBatch().orElseThrow())).containsExactly("x", "y");
        assertThat(b.checkpointOffsets()).isEqualTo(Map.of("t-0", 1L, "t-1", 1L));
        b.skip("t-1", 1);
        assertThat(b.checkpointOffsets()).isEqualTo(Map.of("t-0", 1L, "t-1", 2L));
    }

    @Test
    void releasesAGroupThatNeverCompletesAfterTheTimeoutSoTheOffsetMovesOn() {
        long[] now = {1_000};
        ScoredBatcher b = new ScoredBatcher(2, 0, true, 500, () -> now[0]);
        b.start("t-0", 0);
        b.add(sample("a0", "a", 3, 3), "t-0", 0);  // a1 and a2 were dead-lettered upstream
        now[0] = 1_200;
        b.add(sample("b0", "b", 2, 3), "t-0", 1);
        b.add(sample("b1", "b", 2, 3), "t-0", 2);
        // b is complete and fills the batch on its own; a waits and holds the checkpoint offset
        assertThat(ids(b.nextBatch().orElseThrow())).containsExactly("b0", "b1");
        assertThat(b.checkpointOffsets()).isEqualTo(Map.of("t-0", 0L));
        now[0] = 1_499;
        b.add(sample("c0", "c", 2, 3), "t-0", 3);
        assertThat(b.nextBatch()).isEmpty();
        assertThat(b.releasedIncomplete()).isZero();
        now[0] = 1_500;  // a has waited 500 ms: released with the one sample it has, c stays open
        b.add(sample("d0", "d", 1, 3), "t-0", 4);
        assertThat(ids(b.nextBatch().orElseThrow())).containsExactlyInAnyOrder("a0", "d0");
        assertThat(b.releasedIncomplete()).isEqualTo(1);
        assertThat(b.checkpointOffsets()).isEqualTo(Map.of("t-0", 3L));
    }

    @Test
    void refusesANonPositiveTimeout() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ScoredBatcher(2, 0, true, 0, () -> 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("groupTimeoutMs");
    }
}
