package io.streamrlhf.evaluator.live;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The monitor's snapshot arithmetic. */
class LoopMonitorTest {

    @Test
    void versionsAtTargetCountsWhatWasPublishedByTheCrossing() {
        LoopMonitor.Snapshot none = snapshot();
        assertThat(none.versionsPublishedAtTarget()).as("target not reached").isEqualTo(-1);
        LoopMonitor.Snapshot crossed = new LoopMonitor.Snapshot(10, 24, 40, 2, 2, 2, 2.0, 0.4, 1, none.versions(),
                none.updates(), none.publishedAt(), 6.0, 1);
        assertThat(crossed.versionsPublishedAtTarget()).as("version 1 at 4 s, version 2 at 8 s, target at 6 s")
                .isEqualTo(1);
        assertThat(crossed.versionsPublished()).isEqualTo(2);
    }

    @Test
    void newestVersionsGoldWeighsVersionsByTheirSamples() {
        LoopMonitor.Snapshot s = snapshot();
        // Versions 2 (8 samples, gold 3.0) and 1 (8 samples, gold 2.0) make the newest 16.
        assertThat(s.goldOfNewest(16)).isEqualTo(2.5);
        assertThat(s.goldOfNewest(1)).isEqualTo(3.0);
        assertThat(s.versionsGenerating()).isEqualTo(2);
        assertThat(s.versionsPublished()).isEqualTo(2);
    }

    /** Versions 0-2, eight scored samples each; versions 1 and 2 published at 4 s and 8 s; no target. */
    private static LoopMonitor.Snapshot snapshot() {
        List<LoopMonitor.VersionPoint> versions = List.of(
                new LoopMonitor.VersionPoint(0, 8, 1.0, -0.5, 0.0, 18, 1.0),
                new LoopMonitor.VersionPoint(1, 8, 2.0, 0.1, 0.2, 16, 5.0),
                new LoopMonitor.VersionPoint(2, 8, 3.0, 0.4, 0.5, 15, 9.0));
        List<LoopMonitor.UpdatePoint> updates = List.of(new LoopMonitor.UpdatePoint(1, 0.0, 0.1, 0, 0.001, 0.3),
                new LoopMonitor.UpdatePoint(2, 0.4, 0.3, 1, 0.004, 0.3));
        TreeMap<Long, Double> published = new TreeMap<>();
        published.put(1L, 4.0);
        published.put(2L, 8.0);
        return new LoopMonitor.Snapshot(10, 24, 40, 2, 2, 2, 2.0, 0.4, 1, versions, updates, published, Double.NaN,
                -1);
    }
}
