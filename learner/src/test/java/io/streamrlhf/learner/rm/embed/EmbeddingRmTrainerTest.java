package io.streamrlhf.learner.rm.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.streamrlhf.learner.rm.RmMethod;
import io.streamrlhf.models.encoder.RewardHeads;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The heads learn a hidden preference direction, and the Part II methods act on the pairs they should. */
class EmbeddingRmTrainerTest {
    private static final int F = RewardHeads.FEATURES;

    /** Pairs whose true preference is the first feature block's sum; {@code flipped} of them mislabelled. */
    private static float[][][] pairs(int n, double flippedShare, long seed, boolean[] flipped) {
        Random random = new Random(seed);
        float[][][] out = new float[n][2][F];
        for (int i = 0; i < n; i++) {
            float[] a = new float[F];
            float[] b = new float[F];
            for (int k = 0; k < F; k++) {
                // The preference lives in 32 features that vary more than the rest, as a topic or a style would.
                double scale = k < 32 ? 0.5 : 0.1;
                a[k] = (float) (random.nextGaussian() * scale);
                b[k] = (float) (random.nextGaussian() * scale);
            }
            boolean aBetter = quality(a) > quality(b);
            boolean flip = flipped != null && random.nextDouble() < flippedShare;
            if (flipped != null) {
                flipped[i] = flip;
            }
            out[i][0] = aBetter != flip ? a : b;
            out[i][1] = aBetter != flip ? b : a;
        }
        return out;
    }

    private static double quality(float[] f) {
        double q = 0;
        for (int k = 0; k < 32; k++) {
            q += f[k];
        }
        return q;
    }

    private static double accuracy(RewardHeads heads, float[][][] pairs) {
        int right = 0;
        for (float[][] p : pairs) {
            right += heads.score(p[0]) > heads.score(p[1]) ? 1 : 0;
        }
        return (double) right / pairs.length;
    }

    @Test
    void bradleyTerryHeadsLearnTheHiddenPreference() {
        RewardHeads heads = EmbeddingRmTrainer.train(pairs(400, 0, 1, null), RmMethod.parse("bt"),
                EmbeddingRmTrainer.Settings.DEFAULT, "rm-embed");
        assertThat(heads.size()).isEqualTo(4);
        assertThat(heads.method()).isEqualTo("bt");
        assertThat(accuracy(heads, pairs(300, 0, 2, null))).isGreaterThan(0.85);
    }

    @Test
    void flippingFindsMostlyTheMislabelledPairs() {
        boolean[] flipped = new boolean[600];
        float[][][] train = pairs(600, 0.2, 3, flipped);
        RewardHeads plain = EmbeddingRmTrainer.train(train, RmMethod.parse("bt"), EmbeddingRmTrainer.Settings.DEFAULT,
                "bt");
        boolean[] flips = EmbeddingRmTrainer.flips(train, RmMethod.parse("flip"), EmbeddingRmTrainer.Settings.DEFAULT);
        int negative = 0;
        int negativeAndFlipped = 0;
        for (int i = 0; i < train.length; i++) {
            if (flips[i]) {
                negative++;
                negativeAndFlipped += flipped[i] ? 1 : 0;
            }
        }
        assertThat(negative).isGreaterThan(60);
        assertThat((double) negativeAndFlipped / negative).as("precision of the flips: over twice the 20% base rate")
                .isGreaterThan(0.4);

        RewardHeads flip = EmbeddingRmTrainer.train(train, RmMethod.parse("flip+margin"),
                EmbeddingRmTrainer.Settings.DEFAULT, "flip");
        float[][][] clean = pairs(300, 0, 4, null);
        assertThat(accuracy(flip, clean)).isGreaterThanOrEqualTo(accuracy(plain, clean) - 0.02);
    }

    @Test
    void savedHeadsScoreTheSameAndTheFrozenEncoderRefusesTrunkMethods(@TempDir Path dir) {
        float[][][] train = pairs(100, 0, 5, null);
        RewardHeads heads = EmbeddingRmTrainer.train(train, RmMethod.parse("smooth"),
                new EmbeddingRmTrainer.Settings(2, 50, 0.01, 1e-3, 9), "rm-smooth");
        heads.save(dir);
        RewardHeads back = RewardHeads.load(dir);
        assertThat(back.score(train[0][0])).isCloseTo(heads.score(train[0][0]), within(1e-9));
        assertThat(back.name()).isEqualTo("rm-smooth");
        assertThatThrownBy(() -> EmbeddingRmTrainer.train(train, RmMethod.parse("contrastive"),
                EmbeddingRmTrainer.Settings.DEFAULT, "x")).hasMessageContaining("frozen");
        assertThatThrownBy(() -> RewardHeads.load(dir.resolve("missing"))).hasMessageContaining("has no "
                + RewardHeads.FILE);
    }
}
