package io.streamrlhf.models.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.safetensors.SafetensorsDtype;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each tiny folder, regenerated from its seed, is byte-identical to the one the expected numbers were
 * computed on, and gives PyTorch's numbers (hf_forward.py, written from transformers' modelling code; see
 * resources/hf/README.md): next-token log-probs within 1e-4, logit checksums, argmax, and greedy decoding
 * through the KV cache.
 */
class HfForwardTest {

    private static final double TOLERANCE = 1e-4;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    static JsonNode expected(String name) throws IOException {
        try (InputStream in = HfForwardTest.class.getResourceAsStream("/hf/" + name + ".json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    /** Writes the folder the expected file describes, with the project's generator. */
    static Path regenerate(JsonNode expected, Path dir) throws IOException {
        TinyHfModels.Architecture arch = TinyHfModels.Architecture.valueOf(
                expected.get("arch").asText().toUpperCase(Locale.ROOT));
        return TinyHfModels.write(dir, arch.config(), expected.get("seed").asLong(),
                SafetensorsDtype.valueOf(expected.get("dtype").asText().toUpperCase(Locale.ROOT)),
                expected.get("shards").asInt());
    }

    static int[][] ids(String spec) {
        String[] rows = spec.split(";");
        int[][] out = new int[rows.length][];
        for (int r = 0; r < rows.length; r++) {
            String[] cells = rows[r].split(",");
            out[r] = new int[cells.length];
            for (int i = 0; i < cells.length; i++) {
                out[r][i] = Integer.parseInt(cells[i].trim());
            }
        }
        return out;
    }

    static NDArray batch(NDManager m, int[][] rows) {
        int[] flat = new int[rows.length * rows[0].length];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, flat, r * rows[0].length, rows[0].length);
        }
        return m.create(flat, new Shape(rows.length, rows[0].length));
    }

    /** logprobs[r][t] = log p(ids[r][t + 1] | ids[r][..t]) from logits (B, T, V). */
    static double[][] nextTokenLogProbs(NDArray logits, int[][] rows) {
        float[] logp = logits.logSoftmax(-1).toFloatArray();
        int v = (int) logits.getShape().get(2);
        int t = rows[0].length;
        double[][] out = new double[rows.length][t - 1];
        for (int r = 0; r < rows.length; r++) {
            for (int i = 0; i + 1 < t; i++) {
                out[r][i] = logp[(r * t + i) * v + rows[r][i + 1]];
            }
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama", "qwen2", "mistral", "qwen2-bf16", "llama-f16-3shards"})
    void regeneratedFolderIsByteIdenticalToTheOneScored(String name) throws Exception {
        JsonNode expected = expected(name);
        Path dir = regenerate(expected, tmp.resolve(name));
        Map<String, String> want = new ObjectMapper().convertValue(expected.get("sha256"),
                new com.fasterxml.jackson.core.type.TypeReference<Map<String, String>>() { });
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrderElementsOf(want.keySet());
        }
        for (Map.Entry<String, String> e : want.entrySet()) {
            assertThat(sha256(dir.resolve(e.getKey()))).as(e.getKey()).isEqualTo(e.getValue());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama", "qwen2", "mistral", "qwen2-bf16", "llama-f16-3shards"})
    void logitsEqualPyTorchs(String name) throws Exception {
        JsonNode expected = expected(name);
        JsonNode score = expected.get("score");
        int[][] rows = ids(expected.get("tokens").asText());
        try (HfCausalLm lm = HfCausalLm.load(regenerate(expected, tmp.resolve(name)));
             NDManager step = lm.manager().newSubManager()) {
            NDArray logits = lm.logits(batch(step, rows));  // (B, T, V)
            assertThat(logits.getShape()).isEqualTo(new Shape(rows.length, rows[0].length, lm.config().vocabSize()));
            double[][] logprobs = nextTokenLogProbs(logits, rows);
            for (int r = 0; r < rows.length; r++) {
                for (int i = 0; i < logprobs[r].length; i++) {
                    assertThat(logprobs[r][i]).as("%s row %d position %d", name, r, i)
                            .isCloseTo(score.get("logprobs").get(r).get(i).asDouble(), within(TOLERANCE));
                }
            }
            float[] all = logits.toFloatArray();
            double sum = 0;
            double absSum = 0;
            for (float x : all) {
                sum += x;
                absSum += Math.abs(x);
            }
            // sums over B*T*V logits: the per-logit tolerance times their count
            assertThat(sum).isCloseTo(score.get("logits_sum").asDouble(), within(TOLERANCE * all.length));
            assertThat(absSum).isCloseTo(score.get("logits_abs_sum").asDouble(), within(TOLERANCE * all.length));
            int[] argmax = logits.argMax(-1).toType(ai.djl.ndarray.types.DataType.INT32, false).toIntArray();
            Iterator<JsonNode> want = score.get("argmax").elements();
            int k = 0;
            while (want.hasNext()) {
                for (JsonNode a : want.next()) {
                    assertThat(argmax[k++]).as("argmax %d", k - 1).isEqualTo(a.asInt());
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama", "qwen2", "mistral"})
    void kvCacheDecodingEqualsTheFullForwardAndPyTorchsGreedyIds(String name) throws Exception {
        JsonNode expected = expected(name);
        int[][] prompts = ids(expected.get("prompts").asText());
        JsonNode generated = expected.get("generate").get("generated");
        int steps = generated.get(0).size();
        try (HfCausalLm lm = HfCausalLm.load(regenerate(expected, tmp.resolve(name)));
             NDManager step = lm.manager().newSubManager()) {
            int b = prompts.length;
            int p = prompts[0].length;
            HfKvCache cache = lm.newCache(step, b, p + steps);
            int[][] sequences = new int[b][p + steps];
            for (int r = 0; r < b; r++) {
                System.arraycopy(prompts[r], 0, sequences[r], 0, p);
            }
            NDArray last = lm.logits(batch(step, prompts), cache, 0).get(":, -1, :");  // (B, V)
            for (int s = 0; s < steps; s++) {
                int[] next = last.argMax(-1).toType(ai.djl.ndarray.types.DataType.INT32, false).toIntArray();
                for (int r = 0; r < b; r++) {
                    sequences[r][p + s] = next[r];
                    assertThat(next[r]).as("%s row %d step %d", name, r, s)
                            .isEqualTo(generated.get(r).get(s).asInt());
                }
                // the full forward over the sequence so far scores the same next token as the cache did
                int[][] prefix = new int[b][];
                for (int r = 0; r < b; r++) {
                    prefix[r] = java.util.Arrays.copyOf(sequences[r], p + s);
                }
                float[] full = lm.logits(batch(step, prefix)).get(":, -1, :").toFloatArray();
                float[] cached = last.toFloatArray();
                for (int i = 0; i < full.length; i++) {
                    assertThat((double) cached[i]).isCloseTo(full[i], within(1e-5));
                }
                if (s + 1 < steps) {
                    NDArray ids = step.create(next, new Shape(b, 1));
                    last = lm.logits(ids, cache, p + s).get(":, -1, :");  // (B, V)
                }
            }
        }
    }

    static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
