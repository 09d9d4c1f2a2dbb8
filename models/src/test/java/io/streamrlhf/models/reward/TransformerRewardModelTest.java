package io.streamrlhf.models.reward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TransformerRewardModelTest {

    private static final TransformerConfig CONFIG = new TransformerConfig(30, 12, 32, 2, 4);
    private static TransformerRewardModel rm;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
        rm = TransformerRewardModel.create(CONFIG, 3);
    }

    @AfterAll
    static void stop() {
        rm.close();
    }

    private static float scoreAlone(int[] seq) {
        try (NDManager m = rm.manager().newSubManager()) {
            return rm.forward(m.create(seq, new Shape(1, seq.length)), null, false).scores().getFloat(0);
        }
    }

    @Test
    void batchedPaddedScoresEqualScoringEachPairAlone() {
        List<int[]> conv = List.of(new int[] {1, 2, 3}, new int[] {4}, new int[] {5, 6, 7, 8});
        List<int[]> resp = List.of(new int[] {9, 10}, new int[] {11, 12, 13, 14, 15}, new int[] {16});
        RewardScores batch = rm.score(conv, resp);
        assertThat(batch.size()).isEqualTo(3);
        assertThat(batch.pooled()[0]).hasSize(CONFIG.dModel());
        assertThat(batch.scores()[0]).isCloseTo(scoreAlone(new int[] {1, 2, 3, 9, 10}), within());
        assertThat(batch.scores()[1]).isCloseTo(scoreAlone(new int[] {4, 11, 12, 13, 14, 15}), within());
        assertThat(batch.scores()[2]).isCloseTo(scoreAlone(new int[] {5, 6, 7, 8, 16}), within());
        assertThat(batch.scores()[0]).isNotEqualTo(batch.scores()[1]);
    }

    @Test
    void theScoreReadsTheFinalTokenSoTheResponseEndMatters() {
        float a = rm.score(List.of(new int[] {1, 2}), List.of(new int[] {3, 4})).scores()[0];
        float b = rm.score(List.of(new int[] {1, 2}), List.of(new int[] {3, 5})).scores()[0];
        assertThat(a).isNotEqualTo(b);
    }

    @Test
    void overlongPairsKeepTheirLastContextTokens() {
        int[] conv = new int[20];
        for (int i = 0; i < conv.length; i++) {
            conv[i] = i % 30;
        }
        int[] resp = {21, 22, 23};
        float s = rm.score(List.of(conv), List.of(resp)).scores()[0];
        int[] kept = {11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23};  // last 12 tokens
        assertThat(s).isCloseTo(scoreAlone(kept), within());
    }

    @Test
    void mismatchedListsAreRefused() {
        assertThatThrownBy(() -> rm.score(List.of(new int[] {1}), List.of()))
                .hasMessageContaining("1 conversations but 0 responses");
    }

    private static org.assertj.core.data.Offset<Float> within() {
        return org.assertj.core.data.Offset.offset(1e-5f);
    }
}
