package io.streamrlhf.learner.ppo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A packed batch and what steps 1–8 computed for it, in host arrays of the (B, F) frame. */
final class Rollout {
    final Map<String, Double> metrics = new LinkedHashMap<>();
    final List<String> droppedStale = new ArrayList<>();
    final List<String> droppedTooLong = new ArrayList<>();
    List<RolloutSample> samples = List.of();
    int rows;
    int t;
    /**
     * The first position that scores a response token in any row (the shortest prompt's last position): positions
     * before it score only prompt tokens in every row, so the frame leaves them out.
     */
    int frameStart;
    int f;
    int[] tokens;
    float[] attention;
    int[] actions;
    float[] mask;
    int maskCount;
    /** True when some row is shorter than T (then the attention mask is passed to the model). */
    boolean padded;
    int[] rowStart;
    int[] rowLength;
    /** Each row's {@link RolloutSample#logitTemperature()}, by which the learner divides its logits. */
    float[] temperature;
    /** True when some row's temperature is not 1 (then the logits are divided by it). */
    boolean tempered;
    float[] behaviourLogp;
    float[] proxLogp;
    float[] refLogp;
    float[] oldValues;
    float[] isWeights;
    float[] advantages;
    float[] returns;

    List<String> trainedIds() {
        return samples.stream().map(RolloutSample::generationId).toList();
    }

    /**
     * Right-pads prompt + response rows; frame entry p − 1 − frameStart + j predicts response token j. The frame
     * covers positions [frameStart, T − 1): the vocabulary-wide work of an update (log-softmax, entropy, their
     * backward) is then over the positions that score a response, not the whole sequence.
     */
    void pack(List<RolloutSample> kept, int context) {
        t = 2;
        frameStart = Integer.MAX_VALUE;
        for (RolloutSample s : kept) {
            t = Math.max(t, Math.min(context, s.sequenceLength()));
            frameStart = Math.min(frameStart, s.promptTokens().length - 1);
        }
        f = t - 1 - frameStart;
        tokens = new int[rows * t];
        attention = new float[rows * t];
        actions = new int[rows * f];
        mask = new float[rows * f];
        behaviourLogp = new float[rows * f];
        rowStart = new int[rows];
        rowLength = new int[rows];
        temperature = new float[rows];
        for (int i = 0; i < rows; i++) {
            RolloutSample s = kept.get(i);
            temperature[i] = (float) s.logitTemperature();
            tempered |= temperature[i] != 1f;
            int p = s.promptTokens().length;
            int n = Math.min(s.responseLength(), context - p);
            rowStart[i] = p - 1 - frameStart;
            rowLength[i] = n;
            for (int j = 0; j < p; j++) {
                tokens[i * t + j] = s.promptTokens()[j];
                attention[i * t + j] = 1f;
            }
            for (int j = 0; j < n; j++) {
                tokens[i * t + p + j] = s.responseTokens()[j];
                attention[i * t + p + j] = 1f;
                int k = i * f + rowStart[i] + j;
                actions[k] = s.responseTokens()[j];
                mask[k] = 1f;
                behaviourLogp[k] = s.behaviourLogprobs()[j];
            }
            maskCount += n;
            padded |= p + n < t;
        }
    }

    /**
     * Fills {@link #refLogp} from the samples' own reference log-probs when every row carries one for each of its
     * packed response tokens and was sampled at temperature 1 (the given ones are the raw reference's, and the
     * learner reads the reference at each row's sampling temperature); leaves it {@code null} (to be computed)
     * otherwise.
     */
    boolean useGivenReference(List<RolloutSample> kept) {
        if (tempered) {
            return false;
        }
        for (int i = 0; i < rows; i++) {
            float[] given = kept.get(i).referenceLogprobs();
            if (given == null || given.length < rowLength[i]) {
                return false;
            }
        }
        refLogp = new float[rows * f];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(kept.get(i).referenceLogprobs(), 0, refLogp, i * f + rowStart[i], rowLength[i]);
        }
        return true;
    }

    /** The inputs of the given rows, in that order. */
    RolloutInputs inputs(NDManager m, int[] rowIds) {
        int b = rowIds.length;
        NDArray tokensArray = m.create(rowsOf(tokens, rowIds, t), new Shape(b, t));
        // Without padding the model's plain causal path is used (cheaper than a per-row mask).
        NDArray attentionArray = padded ? m.create(rowsOf(attention, rowIds, t), new Shape(b, t)) : null;
        NDArray actionsArray = m.create(rowsOf(actions, rowIds, f), new Shape(b, f)).toType(DataType.INT64, false);
        NDArray temperatureArray = null;
        if (tempered) {
            float[] rowTemperatures = new float[b];
            for (int i = 0; i < b; i++) {
                rowTemperatures[i] = temperature[rowIds[i]];
            }
            temperatureArray = m.create(rowTemperatures, new Shape(b, 1, 1));  // (B, 1, 1)
        }
        return new RolloutInputs(tokensArray, attentionArray, actionsArray, temperatureArray, frameStart);
    }

    static int[] rowsOf(int[] data, int[] rows, int width) {
        int[] out = new int[rows.length * width];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(data, rows[i] * width, out, i * width, width);
        }
        return out;
    }

    static float[] rowsOf(float[] data, int[] rows, int width) {
        float[] out = new float[rows.length * width];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(data, rows[i] * width, out, i * width, width);
        }
        return out;
    }
}
