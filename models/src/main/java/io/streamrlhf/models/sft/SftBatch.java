package io.streamrlhf.models.sft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamrlhf.models.world.SftExample;
import io.streamrlhf.models.world.Vocabulary;
import java.util.Arrays;
import java.util.List;

/**
 * A right-padded batch of SFT sequences (prompt then learned tokens: {@code <bos>} prompt response {@code <eos>} for
 * the synthetic world, a rendered conversation and its response for a {@link JsonlCorpus}) in host arrays, with the
 * mask of the positions whose next token is learned (the prompt is given, not learned).
 *
 * @param tokens    (B, T) ids, the padding id after each row's end
 * @param attention (B, T) 1 at real tokens
 * @param lossMask  (B, T - 1) 1 where the target token (position t + 1) is learned (a response token or the EOS)
 * @param rows      B
 * @param length    T
 */
public record SftBatch(int[] tokens, float[] attention, float[] lossMask, int rows, int length) {

    /** Packs examples, cutting any sequence longer than {@code context} at the context. */
    static SftBatch of(List<SftExample> examples, Vocabulary vocabulary, int context) {
        int b = examples.size();
        int[][] seqs = new int[b][];
        int[] promptLengths = new int[b];
        for (int i = 0; i < b; i++) {
            int[] prompt = vocabulary.encodePrompt(examples.get(i).prompt());
            int[] response = vocabulary.encodeResponse(examples.get(i).response());
            int[] seq = Arrays.copyOf(prompt, prompt.length + response.length);
            System.arraycopy(response, 0, seq, prompt.length, response.length);
            seqs[i] = seq;
            promptLengths[i] = prompt.length;
        }
        return pack(seqs, promptLengths, vocabulary.padId(), context);
    }

    /**
     * Packs encoded corpus sequences, cutting any longer than {@code context} at the context.
     *
     * @param padId the id after each row's end (masked out of attention and loss)
     */
    public static SftBatch of(List<EncodedCorpus.Sequence> sequences, int padId, int context) {
        int b = sequences.size();
        int[][] seqs = new int[b][];
        int[] promptLengths = new int[b];
        for (int i = 0; i < b; i++) {
            seqs[i] = sequences.get(i).ids();
            promptLengths[i] = Math.max(1, sequences.get(i).learnedFrom());
        }
        return pack(seqs, promptLengths, padId, context);
    }

    private static SftBatch pack(int[][] seqs, int[] promptLengths, int padId, int context) {
        int b = seqs.length;
        int t = 2;
        for (int[] seq : seqs) {
            t = Math.max(t, Math.min(seq.length, context));
        }
        int[] tokens = new int[b * t];
        float[] attention = new float[b * t];
        float[] lossMask = new float[b * (t - 1)];
        Arrays.fill(tokens, padId);
        for (int i = 0; i < b; i++) {
            int len = Math.min(seqs[i].length, context);
            for (int j = 0; j < len; j++) {
                tokens[i * t + j] = seqs[i][j];
                attention[i * t + j] = 1f;
                if (j >= promptLengths[i]) {
                    lossMask[i * (t - 1) + j - 1] = 1f;  // logits at j - 1 predict token j
                }
            }
        }
        return new SftBatch(tokens, attention, lossMask, b, t);
    }

    /** The ids on {@code m}: (B, T). */
    public NDArray tokens(NDManager m) {
        return m.create(tokens, new Shape(rows, length));  // (B, T)
    }

    /** The attention mask on {@code m}: (B, T). */
    public NDArray attention(NDManager m) {
        return m.create(attention, new Shape(rows, length));  // (B, T)
    }

    /** The loss mask on {@code m}: (B, T - 1). */
    public NDArray lossMask(NDManager m) {
        return m.create(lossMask, new Shape(rows, length - 1));  // (B, T-1)
    }

    /** Number of learned (target) tokens. */
    public int targetCount() {
        int n = 0;
        for (float f : lossMask) {
            n += f > 0 ? 1 : 0;
        }
        return n;
    }
}
