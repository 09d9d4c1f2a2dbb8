package io.streamrlhf.models.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.sampling.FinishReason;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.SamplingParams;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link HfSampler}: greedy decoding gives PyTorch's ids, recorded log-probs are those of the distribution drawn
 * from (a training forward's at the same temperature when nothing is filtered; the renormalised top-k/top-p one
 * otherwise), seeds repeat, and a row stops at its EOS while the others go on.
 */
class HfSamplerTest {

    private static final double TOLERANCE = 1e-4;
    private static final int[][] PROMPTS = HfPaddingTest.PROMPTS;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    private HfCausalLm load(String name) throws Exception {
        return HfCausalLm.load(HfForwardTest.regenerate(HfForwardTest.expected(name), tmp.resolve(name)));
    }

    private static SamplingParams params(double temperature, int topK, double topP, int n, long seed) {
        return new SamplingParams(temperature, topK, topP, n, -1, 0, seed);
    }

    /** Row r's logits (T_r, V) of the full forward over prompt + response, run alone. */
    private static float[][] rowLogits(HfCausalLm lm, SampleResult result, int r) {
        int[] seq = result.sequence(r);
        try (NDManager m = lm.manager().newSubManager()) {
            float[] flat = lm.logits(m.create(seq, new Shape(1, seq.length))).toFloatArray();
            int v = lm.config().vocabSize();
            float[][] rows = new float[seq.length][];
            for (int i = 0; i < seq.length; i++) {
                rows[i] = Arrays.copyOfRange(flat, i * v, (i + 1) * v);
            }
            return rows;
        }
    }

    /** log-softmax of logits / temperature over the ids top-k and top-p keep; NaN where removed. */
    private static double[] filteredLogProbs(float[] logits, double temperature, int topK, double topP) {
        int v = logits.length;
        double[] scaled = new double[v];
        for (int i = 0; i < v; i++) {
            scaled[i] = logits[i] / temperature;
        }
        Integer[] order = IntStream.range(0, v).boxed().sorted(Comparator.comparingDouble(i -> -scaled[i]))
                .toArray(Integer[]::new);
        int keep = topK > 0 ? Math.min(topK, v) : v;
        double max = scaled[order[0]];
        double mass = 0;
        for (int i = 0; i < keep; i++) {
            mass += Math.exp(scaled[order[i]] - max);
        }
        boolean[] kept = new boolean[v];
        double before = 0;
        for (int i = 0; i < keep && before < topP * mass; i++) {
            kept[order[i]] = true;
            before += Math.exp(scaled[order[i]] - max);
        }
        double sum = 0;
        for (int i = 0; i < v; i++) {
            sum += kept[i] ? Math.exp(scaled[i] - max) : 0;
        }
        double[] out = new double[v];
        for (int i = 0; i < v; i++) {
            out[i] = kept[i] ? scaled[i] - max - Math.log(sum) : Double.NaN;
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama", "qwen2", "mistral"})
    void greedyAndTopKOneReproducePyTorchsGreedyIds(String name) throws Exception {
        JsonNode generate = HfForwardTest.expected(name).get("generate").get("generated");
        int[][] prompts = HfForwardTest.ids(HfForwardTest.expected(name).get("prompts").asText());
        try (HfCausalLm lm = load(name)) {
            HfSampler sampler = new HfSampler(lm);
            for (SamplingParams p : new SamplingParams[] {params(0, 0, 1, 10, 1), params(1.0, 1, 1, 10, 2)}) {
                SampleResult result = sampler.sample(prompts, p);
                for (int r = 0; r < prompts.length; r++) {
                    int[] want = new int[generate.get(r).size()];
                    for (int s = 0; s < want.length; s++) {
                        want[s] = generate.get(r).get(s).asInt();
                    }
                    assertThat(result.tokens()[r]).as("%s row %d %s", name, r, p).containsExactly(want);
                    assertThat(result.logProbs()[r]).containsOnly(0f);
                    assertThat(result.finishReasons()[r]).isEqualTo(FinishReason.LENGTH);
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"gpt2, 1.0", "gpt2, 0.7", "qwen2, 1.0", "qwen2, 0.7", "llama, 0.7"})
    void recordedLogProbsEqualTheTrainingForwardAtTheTemperature(String name, double temperature) throws Exception {
        try (HfCausalLm lm = load(name)) {
            SampleResult result = new HfSampler(lm).sample(PROMPTS, params(temperature, 0, 1, 8, 7));
            for (int r = 0; r < PROMPTS.length; r++) {
                assertThat(result.length(r)).isEqualTo(8);
                float[][] logits = rowLogits(lm, result, r);
                for (int s = 0; s < result.length(r); s++) {
                    double[] logp = filteredLogProbs(logits[PROMPTS[r].length - 1 + s], temperature, 0, 1.0);
                    assertThat((double) result.logProbs()[r][s]).as("%s row %d step %d", name, r, s)
                            .isCloseTo(logp[result.tokens()[r][s]], within(TOLERANCE));
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"3, 1.0", "0, 0.6", "5, 0.8"})
    void topKAndTopPDrawOnlyKeptIdsAndRecordTheRenormalisedLogProb(int topK, double topP) throws Exception {
        try (HfCausalLm lm = load("qwen2")) {
            SampleResult result = new HfSampler(lm).sample(PROMPTS, params(0.7, topK, topP, 8, 11));
            int filteredAway = 0;
            for (int r = 0; r < PROMPTS.length; r++) {
                float[][] logits = rowLogits(lm, result, r);
                for (int s = 0; s < result.length(r); s++) {
                    float[] row = logits[PROMPTS[r].length - 1 + s];
                    double[] logp = filteredLogProbs(row, 0.7, topK, topP);
                    int id = result.tokens()[r][s];
                    assertThat(logp[id]).as("row %d step %d: id %d kept", r, s, id).isNotNaN();
                    assertThat((double) result.logProbs()[r][s]).isCloseTo(logp[id], within(TOLERANCE));
                    filteredAway += Double.compare(logp[id], filteredLogProbs(row, 0.7, 0, 1.0)[id]) != 0 ? 1 : 0;
                }
            }
            assertThat(filteredAway).as("renormalisation changed the log-probs").isPositive();
        }
    }

    @Test
    void theSameSeedRepeatsAndAnotherSeedDiffers() throws Exception {
        try (HfCausalLm lm = load("qwen2")) {
            HfSampler sampler = new HfSampler(lm);
            SampleResult a = sampler.sample(PROMPTS, params(1.0, 0, 0.9, 12, 42));
            SampleResult b = sampler.sample(PROMPTS, params(1.0, 0, 0.9, 12, 42));
            SampleResult c = sampler.sample(PROMPTS, params(1.0, 0, 0.9, 12, 43));
            assertThat(b.tokens()).isDeepEqualTo(a.tokens());
            assertThat(b.logProbs()).isDeepEqualTo(a.logProbs());
            assertThat(Arrays.deepEquals(c.tokens(), a.tokens())).as("another seed, other ids").isFalse();
        }
    }

    @Test
    void aRowThatDrawsEosStopsWhileTheOthersGoOn() throws Exception {
        // PyTorch's greedy ids for qwen2: row 0 repeats 8, row 1 draws 53, 53, 53, 111, ...
        int[][] prompts = HfForwardTest.ids(HfForwardTest.expected("qwen2").get("prompts").asText());
        try (HfCausalLm lm = load("qwen2")) {
            SampleResult result = new HfSampler(lm).sample(prompts, params(0, 0, 1, 10, 1), new int[] {111, 120});
            assertThat(result.tokens()[0]).containsExactly(8, 8, 8, 8, 8, 8, 8, 8, 8, 8);
            assertThat(result.finishReasons()[0]).isEqualTo(FinishReason.LENGTH);
            assertThat(result.tokens()[1]).containsExactly(53, 53, 53, 111);
            assertThat(result.finishReasons()[1]).isEqualTo(FinishReason.EOS);
            SampleResult all = new HfSampler(lm).sample(prompts,
                    new SamplingParams(0, 0, 1, 10, 8, 0, 1));  // eosId 8: row 0 stops at once
            assertThat(all.tokens()[0]).containsExactly(8);
            assertThat(all.tokens()[1]).startsWith(53, 53, 53, 111);
        }
    }
}
