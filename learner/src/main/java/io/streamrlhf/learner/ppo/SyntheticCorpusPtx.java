package io.streamrlhf.learner.ppo;

import io.streamrlhf.models.world.SftExample;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.models.world.Vocabulary;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * PPO-ptx data from the synthetic world's SFT corpus: a fixed corpus drawn once (seeded), served
 * in random order; the prompt is conditioned on and the response learned, as in SFT.
 */
public final class SyntheticCorpusPtx implements PtxSource {

    private final Vocabulary vocabulary;
    private final List<SftExample> corpus;
    private final SplittableRandom random;

    /** A source over {@code size} examples of the world's corpus grammar. */
    public SyntheticCorpusPtx(SyntheticWorld world, int size, long seed) {
        this.vocabulary = world.vocabulary();
        this.corpus = world.corpus().generate(size, seed);
        this.random = new SplittableRandom(seed ^ 0x9e3779b97f4a7c15L);
    }

    @Override
    public PtxBatch next(int rows, int context) {
        int[][] seqs = new int[rows][];
        int[] promptLengths = new int[rows];
        int t = 2;
        for (int i = 0; i < rows; i++) {
            SftExample ex = corpus.get(random.nextInt(corpus.size()));
            int[] prompt = vocabulary.encodePrompt(ex.prompt());
            int[] response = vocabulary.encodeResponse(ex.response());
            int len = Math.min(prompt.length + response.length, context);
            int[] seq = new int[len];
            for (int j = 0; j < len; j++) {
                seq[j] = j < prompt.length ? prompt[j] : response[j - prompt.length];
            }
            seqs[i] = seq;
            promptLengths[i] = prompt.length;
            t = Math.max(t, len);
        }
        int[] tokens = new int[rows * t];
        float[] attention = new float[rows * t];
        float[] lossMask = new float[rows * (t - 1)];
        Arrays.fill(tokens, vocabulary.padId());
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < seqs[i].length; j++) {
                tokens[i * t + j] = seqs[i][j];
                attention[i * t + j] = 1f;
                if (j >= promptLengths[i]) {
                    lossMask[i * (t - 1) + j - 1] = 1f;  // logits at j − 1 predict token j
                }
            }
        }
        return new PtxBatch(tokens, attention, lossMask, rows, t);
    }
}
