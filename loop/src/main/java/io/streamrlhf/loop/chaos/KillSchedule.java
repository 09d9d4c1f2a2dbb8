package io.streamrlhf.loop.chaos;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * When a chaos run kills what: {@code kills} kills at uniform random times within a window, drawn from one seed, so a
 * run is repeated by its seed. The kinds are drawn so that every kind is killed once before any kind twice (when there
 * are at least as many kills as kinds), in a random order; later kills are of random kinds.
 *
 * @param seed  the seed it was drawn from
 * @param kills the kills, in time order
 */
public record KillSchedule(long seed, List<Kill> kills) {

    public KillSchedule {
        kills = List.copyOf(kills);
    }

    /**
     * One kill.
     *
     * @param at   when, from the start of the window
     * @param kind what kind of process
     * @param pick which of the processes of that kind alive then: {@code pick} modulo their number
     */
    public record Kill(Duration at, ChaosKind kind, int pick) {
        public Kill {
            Objects.requireNonNull(at, "at");
            Objects.requireNonNull(kind, "kind");
            if (at.isNegative() || pick < 0) {
                throw new IllegalArgumentException("a kill needs a time >= 0 and a pick >= 0, got " + at + ", " + pick);
            }
        }
    }

    /**
     * Draws a schedule.
     *
     * @param seed   the seed
     * @param window the time within which the kills fall: [0, window)
     * @param kills  how many, at least 1
     * @param kinds  the kinds to kill, each at least once when {@code kills >= kinds.size()}
     * @throws IllegalArgumentException for no kills, no kinds, a kind listed twice or a window that is not positive
     */
    public static KillSchedule draw(long seed, Duration window, int kills, List<ChaosKind> kinds) {
        if (kills < 1) {
            throw new IllegalArgumentException("--kills must be >= 1, got " + kills);
        }
        if (kinds.isEmpty() || kinds.stream().distinct().count() != kinds.size()) {
            throw new IllegalArgumentException("the kinds to kill must be distinct and at least one, got " + kinds);
        }
        if (window.isZero() || window.isNegative()) {
            throw new IllegalArgumentException("the window of the kills must be positive, got " + window);
        }
        SplittableRandom random = new SplittableRandom(seed);
        List<ChaosKind> order = new ArrayList<>(kinds);
        // Fisher-Yates with the schedule's own random: Collections.shuffle would need a java.util.Random
        for (int i = order.size() - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            ChaosKind t = order.get(i);
            order.set(i, order.get(j));
            order.set(j, t);
        }
        List<Long> times = new ArrayList<>();
        for (int i = 0; i < kills; i++) {
            times.add(random.nextLong(window.toMillis()));
        }
        times.sort(Comparator.naturalOrder());
        List<Kill> out = new ArrayList<>();
        for (int i = 0; i < kills; i++) {
            ChaosKind kind = i < order.size() ? order.get(i) : kinds.get(random.nextInt(kinds.size()));
            out.add(new Kill(Duration.ofMillis(times.get(i)), kind, random.nextInt(Integer.MAX_VALUE)));
        }
        return new KillSchedule(seed, out);
    }

    /** How many kills of each kind, by {@link ChaosKind#key()}, sorted. */
    public Map<String, Integer> byKind() {
        Map<String, Integer> counts = new TreeMap<>();
        kills.forEach(k -> counts.merge(k.kind().key(), 1, Integer::sum));
        return counts;
    }
}
