package io.streamrlhf.models.torchscript;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.PolicyOutput;
import io.streamrlhf.models.reward.RewardOutput;
import io.streamrlhf.models.reward.RewardScores;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Loads the fixtures written by {@code models/scripts/make_torchscript_fixture.py} (PyTorch 1.13)
 * through DJL's libtorch and compares with the outputs PyTorch recorded for the same inputs.
 */
class TorchScriptAdapterTest {

    private static final double TOL = 1e-4;
    private static Path dir;
    private static JsonNode expected;
    private static TransformerConfig config;

    @BeforeAll
    static void readFixture() throws Exception {
        ModelRuntime.init(1);
        dir = resource("torchscript/expected.json").getParent();
        expected = new ObjectMapper().readTree(Files.readString(dir.resolve("expected.json")));
        config = new ObjectMapper().treeToValue(expected.get("config"), TransformerConfig.class);
    }

    private static Path resource(String name) throws URISyntaxException {
        return new File(TorchScriptAdapterTest.class.getClassLoader().getResource(name).toURI()).toPath();
    }

    @Test
    void fixturesAreSmall() throws Exception {
        assertThat(Files.size(dir.resolve("tiny_policy.pt")) + Files.size(dir.resolve("tiny_reward.pt")))
                .isLessThan(1_000_000);
    }

    @Test
    void policyMatchesRecordedOutputs() {
        try (TorchScriptPolicy policy = TorchScriptPolicy.load(dir.resolve("tiny_policy.pt"), config, false);
             NDManager m = policy.manager().newSubManager()) {
            PolicyOutput out = policy.forward(tokens(m), mask(m, "policy"), false);
            assertThat(out.logits().getShape()).isEqualTo(new Shape(3, 8, 64));
            assertThat(out.values().getShape()).isEqualTo(new Shape(3, 8));
            assertClose(out.logits().toFloatArray(), flatten(expected.get("policy").get("logits")));
            assertClose(out.values().toFloatArray(), flatten(expected.get("policy").get("values")));
        }
    }

    @Test
    void rewardModelMatchesRecordedOutputsThroughForwardAndScore() {
        try (TorchScriptRewardModel rm = TorchScriptRewardModel.load(dir.resolve("tiny_reward.pt"), config, false);
             NDManager m = rm.manager().newSubManager()) {
            RewardOutput out = rm.forward(tokens(m), mask(m, "reward"), false);
            float[] scores = flatten(expected.get("reward").get("scores"));
            assertClose(out.scores().toFloatArray(), scores);
            assertClose(out.pooled().toFloatArray(), flatten(expected.get("reward").get("pooled")));
            // The shared batching path: rows split as (conversation, response), right-padded again.
            JsonNode t = expected.get("tokens");
            List<int[]> conv = new ArrayList<>();
            List<int[]> resp = new ArrayList<>();
            int[] realLengths = {8, 8, 5};
            for (int i = 0; i < 3; i++) {
                int[] row = new int[realLengths[i]];
                for (int j = 0; j < row.length; j++) {
                    row[j] = t.get(i).get(j).asInt();
                }
                conv.add(Arrays.copyOfRange(row, 0, 3));
                resp.add(Arrays.copyOfRange(row, 3, row.length));
            }
            RewardScores s = rm.score(conv, resp);
            assertClose(s.scores(), scores);
        }
    }

    @Test
    void trainableGradientStepChangesOutputsButNotTheReferenceCopy() {
        Path file = dir.resolve("tiny_policy.pt");
        try (TorchScriptPolicy policy = TorchScriptPolicy.load(file, config, true);
             TorchScriptPolicy reference = policy.referenceCopy();
             NDManager m = policy.manager().newSubManager()) {
            float[] before = policy.forward(tokens(m), mask(m, "policy"), false).logits().toFloatArray();
            Optimizer sgd = Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.5f)).build();
            try (NDManager step = policy.manager().newSubManager()) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    PolicyOutput out = policy.forward(tokens(step), mask(step, "policy"), true);
                    NDArray loss = out.logits().get(":, :, 5").mean().add(out.values().square().mean());
                    gc.backward(loss);
                }
                int withGrad = 0;
                for (Pair<String, Parameter> p : policy.block().getParameters()) {
                    NDArray w = p.getValue().getArray();
                    NDArray g = w.getGradient();
                    g.attach(step);
                    if (g.abs().sum().getFloat() > 0) {
                        withGrad++;
                    }
                    sgd.update(p.getKey(), w, g);
                }
                assertThat(withGrad).isGreaterThan(10);
            }
            float[] after = policy.forward(tokens(m), mask(m, "policy"), false).logits().toFloatArray();
            assertThat(maxAbsDiff(before, after)).isGreaterThan(1e-3);

            // The frozen reference still reproduces the recorded outputs and takes no gradients.
            assertClose(reference.forward(tokens(m), mask(m, "policy"), false).logits().toFloatArray(),
                    flatten(expected.get("policy").get("logits")));
            for (Pair<String, Parameter> p : reference.block().getParameters()) {
                assertThat(p.getValue().getArray().hasGradient()).as(p.getKey()).isFalse();
            }

            // The trained weights survive a checkpoint round trip and a hot swap into the reference.
            Checkpoint cp = policy.toCheckpoint(Map.of("step", "1"), null);
            assertThat(cp.metadata()).containsEntry(TorchScriptPolicy.SOURCE_KEY, file.toAbsolutePath().toString());
            try (TorchScriptPolicy restored = TorchScriptPolicy.fromCheckpoint(cp, false)) {
                assertClose(restored.forward(tokens(m), mask(m, "policy"), false).logits().toFloatArray(), after);
            }
            reference.loadWeights(cp);
            assertClose(reference.forward(tokens(m), mask(m, "policy"), false).logits().toFloatArray(), after);
        }
    }

    @Test
    void missingFileIsRefusedWithItsName() {
        Path missing = dir.resolve("nope.pt");
        assertThatThrownBy(() -> TorchScriptPolicy.load(missing, config, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nope.pt");
    }

    private static NDArray tokens(NDManager m) {
        JsonNode t = expected.get("tokens");
        int[] flat = new int[24];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 8; j++) {
                flat[i * 8 + j] = t.get(i).get(j).asInt();
            }
        }
        return m.create(flat, new Shape(3, 8));
    }

    private static NDArray mask(NDManager m, String which) {
        return m.create(flatten(expected.get(which).get("attention_mask")), new Shape(3, 8));
    }

    private static float[] flatten(JsonNode node) {
        List<Float> out = new ArrayList<>();
        collect(node, out);
        float[] a = new float[out.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = out.get(i);
        }
        return a;
    }

    private static void collect(JsonNode node, List<Float> out) {
        if (node.isArray()) {
            node.forEach(n -> collect(n, out));
        } else {
            out.add((float) node.asDouble());
        }
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    private static void assertClose(float[] actual, float[] expectedValues) {
        assertThat(actual).hasSameSizeAs(expectedValues);
        assertThat(maxAbsDiff(actual, expectedValues)).isLessThan(TOL);
    }
}
