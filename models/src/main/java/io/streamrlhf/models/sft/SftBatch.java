package io.streamrlhf.models.sft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamrlhf.models.world.SftExample;
import io.streamrlhf.models.world.Vocabulary;
import java.util.Arrays;
import java.util.List;

/**
 * A right-padded batch of SFT sequences ({@code <bos>} prompt response {@code <eos>}) in host
 * arrays, with the mask of the positions whose next token is part of the response (the prompt is
 * given, not learned).
 *
 * @param tokens    (B, T) ids, {@code <pad>} after each row's end
 * @param attention (B, T) 1 at real tokens
 * @param lossMask  (B, T - 1) 1 where the target token (position t + 1) is a response token or {@code <eos>}
 * @param rows      B
 * @param length    T
 */
record SftBatch(int[] tokens, float[] attention, float[] lossMask, int rows, int length) {

    /** Packs examples, cutting any sequence longer than {@code context} at the context. */
    static SftBatch of(List<SftExample> examples, Vocabulary vocabulary, int context) {
        int b = examples.size();
        int[][] seqs = new int[b][];
        int[] promptLengths = new int[b];
        int t = 2;
        for (int i = 0; i < b; i++) {
            int[] prompt = vocabulary.encodePrompt(examples.get(i).prompt());
            int[] response = vocabulary.encodeResponse(examples.get(i).response());
            int len = Math.min(prompt.length + response.length, context);
            int[] seq = new int[len];
            for (int j = 0; j < len; j++) {
                seq[j] = j < prompt.length ? prompt[j] : response[j - prompt.length];
            }
            seqs[i] = seq;
            promptLengths[i] = prompt.length;
            t = Math.max(t, len);
        }
        int[] tokens = new int[b * t];
        float[] attention = new float[b * t];
        float[] lossMask = new float[b * (t - 1)];
        Arrays.fill(tokens, vocabulary.padId());
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < seqs[i].length; j++) {
                tokens[i * t + j] = seqs[i][j];
                attention[i * t + j] = 1f;
                if (j >= promptLengths[i]) {
                    lossMask[i * (t - 1) + j - 1] = 1f;  // logits at j - 1 predict token j
                }
            }
        }
        return new SftBatch(tokens, attention, lossMask, b, t);
    }

    NDArray tokens(NDManager m) {
        return m.create(tokens, new Shape(rows, length));  // (B, T)
    }

    NDArray attention(NDManager m) {
        return m.create(attention, new Shape(rows, length));  // (B, T)
    }

    NDArray lossMask(NDManager m) {
        return m.create(lossMask, new Shape(rows, length - 1));  // (B, T-1)
    }

    /** Number of predicted (response) tokens. */
    int targetCount() {
        int n = 0;
        for (float f : lossMask) {
            n += f > 0 ? 1 : 0;
        }
        return n;
    }
}
