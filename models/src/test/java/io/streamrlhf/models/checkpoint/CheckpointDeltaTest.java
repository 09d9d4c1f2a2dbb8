package io.streamrlhf.models.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.sft.SftConfig;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CheckpointDeltaTest {

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    /**
     * As an Adam step moves weights: every one by up to the learning rate, by how much varying from weight to weight
     * (m/sqrt(v) spreads over (-1, 1) after the first step, which moves every weight by exactly ±lr).
     */
    static byte[] adamStep(byte[] weights, double lr, long seed) {
        try (NDManager m = NDManager.newBaseManager()) {
            m.getEngine().setRandomSeed((int) seed);
            NDList out = new NDList();
            for (NDArray a : NDList.decode(m, weights)) {
                NDArray moved = a.add(m.randomUniform(-1f, 1f, a.getShape()).mul((float) lr));
                moved.setName(a.getName());
                out.add(moved);
            }
            return out.encode();
        }
    }

    private static Checkpoint withWeights(Checkpoint c, byte[] weights, String version) {
        return new Checkpoint(c.kind(), c.architecture(), c.config(), weights, c.optimizerState(),
                Map.of("version", version), c.modelFiles());
    }

    @Test
    void aDeltaOfTheDemoPolicyAfterAnAdamStepIsExactAndSmallerThanTheFullBytes() {
        try (TransformerPolicy policy = TransformerPolicy.create(SftConfig.DEMO_MODEL, 1)) {
            Checkpoint v1 = policy.toCheckpoint(Map.of("version", "1"), null);
            Checkpoint v2 = withWeights(v1, adamStep(v1.weights(), 1e-4, 2), "2");
            byte[] base = CheckpointStore.toBytes(v1);
            byte[] full = CheckpointStore.toBytes(v2);

            byte[] delta = CheckpointDelta.encode(1, base, full);
            byte[] rebuilt = CheckpointDelta.apply(base, delta);

            assertThat(rebuilt).isEqualTo(full);
            assertThat(CheckpointStore.sha256(CheckpointStore.manifestOf(rebuilt)))
                    .isEqualTo(CheckpointStore.sha256(CheckpointStore.manifestOf(full)));
            assertThat(CheckpointStore.fromBytes(rebuilt).weights()).isEqualTo(v2.weights());
            // 0.62 here (lr 1e-4, amounts uniform in (-lr, lr)); real PPO updates of the demo policy give 0.50 to 0.57
            // (docs/architecture.md), the first Adam step (every weight moved by exactly ±lr) about 0.37.
            assertThat((double) delta.length / full.length).isLessThan(0.65);
            CheckpointDelta.Header header = CheckpointDelta.header(delta);
            assertThat(header.baseVersion()).isEqualTo(1);
            assertThat(header.targetSha256()).isEqualTo(CheckpointStore.sha256(CheckpointStore.manifestOf(full)));
        }
    }

    @Test
    void entriesThatChangeLengthTravelWhole() {
        Checkpoint a = new Checkpoint(ModelKind.POLICY, "transformer", SftConfig.DEMO_MODEL, new byte[] {1, 2, 3},
                null, Map.of("version", "1"));
        Checkpoint b = new Checkpoint(ModelKind.POLICY, "transformer", SftConfig.DEMO_MODEL, new byte[] {1, 2, 3, 4, 5},
                new byte[] {9}, Map.of("version", "22"));
        byte[] base = CheckpointStore.toBytes(a);
        byte[] full = CheckpointStore.toBytes(b);
        assertThat(CheckpointDelta.apply(base, CheckpointDelta.encode(1, base, full))).isEqualTo(full);
    }

    @Test
    void aDeltaAppliedToAnotherBaseIsRefusedNamingBothManifests() {
        try (TransformerPolicy policy = TransformerPolicy.create(SftConfig.DEMO_MODEL, 1)) {
            Checkpoint v1 = policy.toCheckpoint(Map.of("version", "1"), null);
            Checkpoint v2 = withWeights(v1, adamStep(v1.weights(), 1e-4, 2), "2");
            Checkpoint v3 = withWeights(v2, adamStep(v2.weights(), 1e-4, 3), "3");
            byte[] delta = CheckpointDelta.encode(2, CheckpointStore.toBytes(v2), CheckpointStore.toBytes(v3));
            String wanted = CheckpointStore.sha256(CheckpointStore.manifestOf(CheckpointStore.toBytes(v2)));

            assertThatThrownBy(() -> CheckpointDelta.apply(CheckpointStore.toBytes(v1), delta))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("delta on version 2")
                    .hasMessageContaining(wanted);
        }
    }

    @Test
    void aCorruptDeltaIsRefused() {
        Checkpoint a = new Checkpoint(ModelKind.POLICY, "transformer", SftConfig.DEMO_MODEL, new byte[64], null,
                Map.of());
        byte[] base = CheckpointStore.toBytes(a);
        assertThatThrownBy(() -> CheckpointDelta.apply(base, base))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("not a StreamRLHF checkpoint delta");
        assertThat(CheckpointDelta.isDelta(base)).isFalse();
    }
}
