package io.streamrlhf.loop.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class KillScheduleTest {

    private static final List<ChaosKind> ALL = Arrays.asList(ChaosKind.values());

    @Test
    void oneSeedGivesOneScheduleAndAnotherSeedAnother() {
        KillSchedule a = KillSchedule.draw(7, Duration.ofMinutes(10), 25, ALL);
        KillSchedule b = KillSchedule.draw(7, Duration.ofMinutes(10), 25, ALL);
        KillSchedule c = KillSchedule.draw(8, Duration.ofMinutes(10), 25, ALL);
        assertThat(a).isEqualTo(b);
        assertThat(a.kills()).isNotEqualTo(c.kills());
    }

    @Test
    void everyKindIsKilledOnceBeforeAnyTwiceAndTheTimesFallInTheWindowInOrder() {
        for (long seed = 0; seed < 50; seed++) {
            KillSchedule s = KillSchedule.draw(seed, Duration.ofSeconds(45), 9, ALL);
            assertThat(s.kills()).hasSize(9);
            assertThat(s.kills().stream().map(KillSchedule.Kill::kind).toList())
                    .as("seed %d: 9 kills, 9 kinds", seed).containsExactlyInAnyOrderElementsOf(ALL);
            assertThat(s.kills()).allSatisfy(k -> assertThat(k.at()).isBetween(Duration.ZERO, Duration.ofSeconds(45)));
            assertThat(s.kills().stream().map(KillSchedule.Kill::at).toList()).isSorted();
        }
        KillSchedule twenty = KillSchedule.draw(3, Duration.ofMinutes(10), 20, ALL);
        assertThat(twenty.kills().subList(0, ALL.size()).stream().map(KillSchedule.Kill::kind).toList())
                .containsExactlyInAnyOrderElementsOf(ALL);
        assertThat(twenty.byKind().values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(20);
        assertThat(twenty.byKind()).hasSize(ALL.size());
    }

    @Test
    void fewerKillsThanKindsKillDistinctKinds() {
        KillSchedule s = KillSchedule.draw(11, Duration.ofMinutes(1), 4, ALL);
        assertThat(s.kills().stream().map(KillSchedule.Kill::kind).distinct().count()).isEqualTo(4);
    }

    @Test
    void theKindsAreDrawnInDifferentOrdersAcrossSeeds() {
        long firstKinds = java.util.stream.LongStream.range(0, 40)
                .mapToObj(seed -> KillSchedule.draw(seed, Duration.ofMinutes(1), 9, ALL).kills().get(0).kind())
                .distinct().count();
        assertThat(firstKinds).as("kinds killed first over 40 seeds").isGreaterThanOrEqualTo(5);
    }

    @Test
    void badArgumentsAreNamed() {
        assertThatThrownBy(() -> KillSchedule.draw(1, Duration.ofMinutes(1), 0, ALL))
                .hasMessageContaining("--kills must be >= 1, got 0");
        assertThatThrownBy(() -> KillSchedule.draw(1, Duration.ZERO, 3, ALL))
                .hasMessageContaining("window of the kills must be positive");
        assertThatThrownBy(() -> KillSchedule.draw(1, Duration.ofMinutes(1), 3, List.of()))
                .hasMessageContaining("at least one");
        assertThatThrownBy(() -> KillSchedule.draw(1, Duration.ofMinutes(1), 3,
                List.of(ChaosKind.BROKER, ChaosKind.BROKER))).hasMessageContaining("distinct");
        assertThatThrownBy(() -> ChaosKind.of("gpu")).hasMessageContaining("no kind of process named 'gpu'")
                .hasMessageContaining("active_learner");
        assertThat(ChaosKind.of("Active_Learner")).isEqualTo(ChaosKind.ACTIVE_LEARNER);
    }
}
