package io.streamrlhf.models.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * all-MiniLM-L6-v2 as ONNX Runtime runs it equals a second runtime: a BERT forward written here on PyTorch (through
 * DJL) over the same weights, read from the ONNX file's initializers — within 1e-4 on every coordinate.
 */
class MiniLmTest {
    private static final List<String> SENTENCES = List.of(
            "This is an example sentence.",
            "Each sentence is converted into a vector.",
            "The quick brown fox jumps over the lazy dog!",
            "Émile's café serves crème brûlée — 5 € a bowl 🍮.");
    private static final int LAYERS = 6;
    private static final int HEADS = 12;
    private static final float LN_EPS = 1e-12f;

    private static MiniLm model;

    @BeforeAll
    static void load() {
        model = MiniLm.load(1);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void embeddingsEqualAPyTorchForwardOverTheSameWeights() {
        float[][] onnx = model.embed(SENTENCES);
        Map<String, OnnxInitializers.Tensor> weights = OnnxInitializers.read(MiniLm.onnxBytes());
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            for (int s = 0; s < SENTENCES.size(); s++) {
                float[] reference = forward(manager, weights, model.tokenIds(SENTENCES.get(s)));
                assertThat(onnx[s]).hasSize(MiniLm.DIMENSION);
                for (int k = 0; k < MiniLm.DIMENSION; k++) {
                    assertThat(onnx[s][k]).as("%s [%d]", SENTENCES.get(s), k)
                            .isCloseTo(reference[k], within(1e-4f));
                }
            }
        }
    }

    @Test
    void batchedAndSingleEmbeddingsAgreeAndMeaningShowsInTheGeometry() {
        float[][] batch = model.embed(SENTENCES);
        for (int s = 0; s < SENTENCES.size(); s++) {
            float[] single = model.embed(SENTENCES.get(s));
            for (int k = 0; k < MiniLm.DIMENSION; k++) {
                assertThat(batch[s][k]).isCloseTo(single[k], within(1e-5f));
            }
            assertThat(dot(single, single)).isCloseTo(1.0, within(1e-5));
        }
        float[] cat = model.embed("A cat sits on the mat.");
        float[] kitten = model.embed("A kitten is sitting on a rug.");
        float[] stocks = model.embed("Stock markets fell sharply on Monday.");
        assertThat(dot(cat, kitten)).isGreaterThan(dot(cat, stocks) + 0.3);
    }

    private static double dot(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d += a[i] * b[i];
        }
        return d;
    }

    /** BERT on PyTorch: embeddings, six post-LayerNorm encoder layers with erf GELU, mean pooling, L2 norm. */
    private static float[] forward(NDManager m, Map<String, OnnxInitializers.Tensor> w, long[] ids) {
        int t = ids.length;
        NDArray x = weight(m, w, "embeddings.word_embeddings.weight").get(m.create(ids))
                .add(weight(m, w, "embeddings.position_embeddings.weight").get(new NDIndex("0:" + t)))
                .add(weight(m, w, "embeddings.token_type_embeddings.weight").get(0));
        x = layerNorm(m, w, x, "embeddings.LayerNorm");
        // The ONNX export names the six projection matrices of each layer by number only, in this order.
        List<NDArray> matrices = new ArrayList<>();
        for (Map.Entry<String, OnnxInitializers.Tensor> e : w.entrySet()) {
            if (e.getKey().startsWith("onnx::MatMul_")) {
                matrices.add(m.create(e.getValue().values(), new Shape(e.getValue().dims())));
            }
        }
        assertThat(matrices).hasSize(LAYERS * 6);
        int d = MiniLm.DIMENSION;
        int hd = d / HEADS;
        for (int l = 0; l < LAYERS; l++) {
            String p = "encoder.layer." + l + ".";
            NDArray q = x.matMul(matrices.get(6 * l)).add(weight(m, w, p + "attention.self.query.bias"));
            NDArray k = x.matMul(matrices.get(6 * l + 1)).add(weight(m, w, p + "attention.self.key.bias"));
            NDArray v = x.matMul(matrices.get(6 * l + 2)).add(weight(m, w, p + "attention.self.value.bias"));
            q = q.reshape(t, HEADS, hd).transpose(1, 0, 2);
            k = k.reshape(t, HEADS, hd).transpose(1, 0, 2);
            v = v.reshape(t, HEADS, hd).transpose(1, 0, 2);
            NDArray scores = q.matMul(k.transpose(0, 2, 1)).div(Math.sqrt(hd)).softmax(-1);
            NDArray context = scores.matMul(v).transpose(1, 0, 2).reshape(t, d);
            NDArray attention = context.matMul(matrices.get(6 * l + 3))
                    .add(weight(m, w, p + "attention.output.dense.bias"));
            x = layerNorm(m, w, x.add(attention), p + "attention.output.LayerNorm");
            NDArray hidden = x.matMul(matrices.get(6 * l + 4)).add(weight(m, w, p + "intermediate.dense.bias"));
            hidden = hidden.mul(0.5).mul(hidden.div(Math.sqrt(2.0)).erf().add(1.0));
            NDArray out = hidden.matMul(matrices.get(6 * l + 5)).add(weight(m, w, p + "output.dense.bias"));
            x = layerNorm(m, w, x.add(out), p + "output.LayerNorm");
        }
        NDArray pooled = x.mean(new int[] {0});
        return pooled.div(pooled.norm()).toFloatArray();
    }

    private static NDArray layerNorm(NDManager m, Map<String, OnnxInitializers.Tensor> w, NDArray x, String name) {
        NDArray mean = x.mean(new int[] {-1}, true);
        NDArray centred = x.sub(mean);
        NDArray variance = centred.square().mean(new int[] {-1}, true);
        return centred.div(variance.add(LN_EPS).sqrt()).mul(weight(m, w, name + ".weight"))
                .add(weight(m, w, name + ".bias"));
    }

    private static NDArray weight(NDManager m, Map<String, OnnxInitializers.Tensor> w, String name) {
        OnnxInitializers.Tensor t = w.get(name);
        assertThat(t).as(name).isNotNull();
        return m.create(t.values(), new Shape(t.dims()));
    }
}
