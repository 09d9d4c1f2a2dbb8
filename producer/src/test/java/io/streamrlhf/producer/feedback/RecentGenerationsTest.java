package io.streamrlhf.producer.feedback;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.schemas.avro.Generation;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** One response for a rating: any generation of the window, a prompt with a single one included. */
class RecentGenerationsTest {

    @Test
    void randomOneDrawsEveryGenerationOfTheWindowAndNothingFromAnEmptyOne() {
        RecentGenerations recent = new RecentGenerations(10, 4);
        assertThat(recent.randomOne(new Random(1))).isEmpty();
        Generation a = SimulatedRatersTest.generation("p1", "q1", "a");
        Generation b = SimulatedRatersTest.generation("p2", "q2", "b");
        Generation c = SimulatedRatersTest.generation("p2", "q2", "c");
        recent.add(a);
        recent.add(b);
        recent.add(c);
        assertThat(recent.randomPair(new Random(1)).orElseThrow().promptId()).as("p1 has one generation, no pair")
                .isEqualTo("p2");

        Random random = new Random(7);
        Set<String> drawn = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            drawn.add(recent.randomOne(random).orElseThrow().getGenerationId());
        }
        assertThat(drawn).containsExactlyInAnyOrder(a.getGenerationId(), b.getGenerationId(), c.getGenerationId());
    }
}
