package io.streamrlhf.learner.rm.online;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.learner.rm.EncodedPair;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The pairs a fine-tuning round of the online trainer trains on: its new pairs plus a replay sample. */
class ReplaySampleTest {

    private static List<EncodedPair> buffer(int n) {
        List<EncodedPair> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(EncodedPair.of("p" + i, new int[] {1}, new int[] {2}, new int[] {3}));
        }
        return out;
    }

    private static List<String> ids(List<EncodedPair> pairs) {
        return pairs.stream().map(EncodedPair::id).toList();
    }

    @Test
    void newPairsAllTrainedAndRatioTimesAsManyOlderOnesReplayed() {
        List<EncodedPair> buf = buffer(1000);
        List<EncodedPair> round = OnlineRmTrainer.roundPairs(buf, 64, 3.0, new Random(1));
        assertThat(round).hasSize(64 + 192);
        // The 64 newest come last, in order.
        assertThat(ids(round.subList(192, 256))).isEqualTo(ids(buf.subList(936, 1000)));
        // The replayed ones are distinct older pairs.
        Set<String> replayed = new HashSet<>(ids(round.subList(0, 192)));
        assertThat(replayed).hasSize(192);
        assertThat(replayed).allSatisfy(id -> assertThat(Integer.parseInt(id.substring(1))).isLessThan(936));
    }

    @Test
    void replayCoversTheOlderBufferUniformly() {
        List<EncodedPair> buf = buffer(200);
        int[] hits = new int[100];
        Random draws = new Random(7);
        int rounds = 4000;
        for (int r = 0; r < rounds; r++) {
            for (EncodedPair p : OnlineRmTrainer.roundPairs(buf, 100, 0.25, draws).subList(0, 25)) {
                hits[Integer.parseInt(p.id().substring(1))]++;
            }
        }
        // Each older pair is drawn with probability 25/100: expected 1000 hits, sd ~27.
        for (int h : hits) {
            assertThat(h).isBetween(1000 - 6 * 27, 1000 + 6 * 27);
        }
    }

    @Test
    void ratioLargerThanTheBufferTrainsTheWholeBuffer() {
        List<EncodedPair> buf = buffer(50);
        assertThat(ids(OnlineRmTrainer.roundPairs(buf, 10, 1000, new Random(1)))).isEqualTo(ids(buf));
    }

    @Test
    void zeroRatioTrainsOnlyTheNewPairs() {
        List<EncodedPair> buf = buffer(50);
        assertThat(ids(OnlineRmTrainer.roundPairs(buf, 10, 0, new Random(1)))).isEqualTo(ids(buf.subList(40, 50)));
    }

    @Test
    void aRoundWithNoNewTrainingPairsStillReplaysRatioPairs() {
        // A round due to rm.train.max.wait.ms whose new pairs were all held out.
        assertThat(OnlineRmTrainer.roundPairs(buffer(50), 0, 3.0, new Random(1))).hasSize(3);
    }
}
