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
            // 0.57 here (lr 1e-4, amounts uniform in (-lr, lr): more spread than real updates); real PPO updates of
            // the demo policy give 0.45 to 0.53 without momentum (docs/architecture.md). Format 1 (deflate, stream order) gave 0.62.
            assertThat((double) delta.length / full.length).isLessThan(0.59);
            CheckpointDelta.Header header = CheckpointDelta.header(delta);
            assertThat(header.baseVersion()).isEqualTo(1);
            assertThat(header.targetSha256()).isEqualTo(CheckpointStore.sha256(CheckpointStore.manifestOf(full)));
        }
    }

    @Test
    void differencesInExponentOrderInvertExactlyWhateverTheBytesAndPhases() {
        java.util.Random random = new java.util.Random(7);
        for (int n : new int[] {0, 1, 3, 4, 4095, 4096, 4097, 3 * 4096 + 5}) {
            byte[] before = new byte[n];
            random.nextBytes(before);
            byte[] now = before.clone();
            for (int i = 0; i < n; i += 1 + random.nextInt(3)) {
                now[i] += (byte) random.nextInt(5);
            }
            byte[] prior = before.clone();
            for (int i = 0; i < n; i += 1 + random.nextInt(3)) {
                prior[i] -= (byte) random.nextInt(5);
            }
            for (boolean byExponent : new boolean[] {true, false}) {
                for (byte[] p : new byte[][] {null, prior}) {
                    byte[] planed = CheckpointDelta.difference(before, p, now, byExponent);
                    assertThat(planed).hasSize((n + 4095) / 4096 + n);
                    assertThat(CheckpointDelta.sum(before, p, planed, byExponent))
                            .as("n=%d byExponent=%s prior=%s", n, byExponent, p != null).isEqualTo(now);
                }
            }
        }
    }

    @Test
    void wordsOfOneExponentLieTogetherInThePlanes() {
        // 1.0f and 1.5f (exponent 0x7f) around 2.0f (exponent 0x80), each moved in its three low bytes (so the block's
        // phase is 0): the planes hold the first and third words' differences, then the second's.
        int[] base = {Float.floatToIntBits(1.0f), Float.floatToIntBits(2.0f), Float.floatToIntBits(1.5f)};
        int[] next = {base[0] + 0x010101, base[1] + 0x020202, base[2] - 0x010101};
        byte[] before = words(base);
        byte[] now = words(next);

        byte[] planed = CheckpointDelta.difference(before, null, now, true);

        // zigzag: +0x010101 -> 0x020202, -0x010101 -> 0x020201, +0x020202 -> 0x040404
        assertThat(planed).containsExactly(0, 2, 1, 4, 2, 2, 4, 2, 2, 4, 0, 0, 0);
        assertThat(CheckpointDelta.sum(before, null, planed, true)).isEqualTo(now);
        assertThat(CheckpointDelta.difference(before, null, now, false)).as("format 1: stream order")
                .containsExactly(0, 2, 4, 1, 2, 4, 2, 2, 4, 2, 0, 0, 0);
    }

    @Test
    void aStepThatRepeatsTheLastTravelsAsMomentumAndNeedsTheVersionBeforeItsBase() {
        try (TransformerPolicy policy = TransformerPolicy.create(SftConfig.DEMO_MODEL, 1)) {
            Checkpoint v1 = policy.toCheckpoint(Map.of("version", "1"), null);
            // The same step twice: as momentum keeps an optimiser moving each weight the way it moved it last.
            Checkpoint v2 = withWeights(v1, adamStep(v1.weights(), 1e-4, 2), "2");
            Checkpoint v3 = withWeights(v2, adamStep(v2.weights(), 1e-4, 2), "3");
            byte[] first = CheckpointStore.toBytes(v1);
            byte[] base = CheckpointStore.toBytes(v2);
            byte[] full = CheckpointStore.toBytes(v3);

            byte[] plain = CheckpointDelta.encode(2, base, full);
            byte[] momentum = CheckpointDelta.encode(2, base, first, full);

            assertThat(CheckpointDelta.header(plain).needsPrior()).isFalse();
            CheckpointDelta.Header header = CheckpointDelta.header(momentum);
            assertThat(header.needsPrior()).isTrue();
            assertThat(header.priorSha256()).isEqualTo(CheckpointStore.sha256(CheckpointStore.manifestOf(first)));
            // a residual of 1/8 of the step: 3 bits fewer of the ~16 a weight's difference takes (0.84 measured)
            assertThat((double) momentum.length).isLessThan(0.9 * plain.length);
            assertThat(CheckpointDelta.apply(base, first, momentum)).isEqualTo(full);
            assertThat(CheckpointDelta.apply(base, plain)).isEqualTo(full);
            assertThatThrownBy(() -> CheckpointDelta.apply(base, momentum)).isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("none was given").hasMessageContaining(header.priorSha256());
            assertThatThrownBy(() -> CheckpointDelta.apply(base, full, momentum))
                    .isInstanceOf(CheckpointException.class).hasMessageContaining(header.priorSha256())
                    .hasMessageContaining(CheckpointStore.sha256(CheckpointStore.manifestOf(full)));
        }
    }

    @Test
    void independentStepsKeepThePlainDifference() {
        try (TransformerPolicy policy = TransformerPolicy.create(SftConfig.DEMO_MODEL, 1)) {
            Checkpoint v1 = policy.toCheckpoint(Map.of("version", "1"), null);
            Checkpoint v2 = withWeights(v1, adamStep(v1.weights(), 1e-4, 2), "2");
            Checkpoint v3 = withWeights(v2, adamStep(v2.weights(), 1e-4, 3), "3");
            byte[] base = CheckpointStore.toBytes(v2);

            byte[] delta = CheckpointDelta.encode(2, base, CheckpointStore.toBytes(v1), CheckpointStore.toBytes(v3));

            assertThat(CheckpointDelta.header(delta).needsPrior()).isFalse();
            assertThat(CheckpointDelta.apply(base, delta)).isEqualTo(CheckpointStore.toBytes(v3));
        }
    }

    @Test
    void aFormatOneDeltaStillApplies() throws java.io.IOException {
        try (TransformerPolicy policy = TransformerPolicy.create(SftConfig.DEMO_MODEL, 1)) {
            Checkpoint v1 = policy.toCheckpoint(Map.of("version", "1"), null);
            Checkpoint v2 = withWeights(v1, adamStep(v1.weights(), 1e-4, 2), "2");
            byte[] base = CheckpointStore.toBytes(v1);
            byte[] full = CheckpointStore.toBytes(v2);

            byte[] old = formatOne(1, base, full);

            assertThat(CheckpointDelta.header(old).baseVersion()).isEqualTo(1);
            assertThat(CheckpointDelta.apply(base, old)).isEqualTo(full);
            assertThat(CheckpointDelta.encode(1, base, full).length).as("format 2 is smaller")
                    .isLessThan(old.length);
        }
    }

    @Test
    void aDeltaOfAnUnknownFormatIsRefusedNamingIt() {
        Checkpoint a = new Checkpoint(ModelKind.POLICY, "transformer", SftConfig.DEMO_MODEL, new byte[64], null,
                Map.of());
        byte[] base = CheckpointStore.toBytes(a);
        byte[] delta = CheckpointDelta.encode(1, base, base);
        delta[11] = 9;  // the format int follows the 8-byte magic

        assertThatThrownBy(() -> CheckpointDelta.apply(base, delta)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("format 9 is not supported");
    }

    /** A delta as format 1 wrote it (deflate, planes in stream order), laid out here from the class's description. */
    private static byte[] formatOne(long baseVersion, byte[] base, byte[] target) throws java.io.IOException {
        Map<String, byte[]> from = CheckpointStore.entries(base);
        Map<String, byte[]> to = CheckpointStore.entries(target);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (java.io.DataOutputStream data = new java.io.DataOutputStream(out)) {
            data.write("RLHFDLTA".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            data.writeInt(1);
            data.writeLong(baseVersion);
            data.writeUTF(CheckpointStore.sha256(from.get(CheckpointStore.MANIFEST)));
            data.writeUTF(CheckpointStore.sha256(to.get(CheckpointStore.MANIFEST)));
            data.writeInt(to.size());
            for (Map.Entry<String, byte[]> e : to.entrySet()) {
                byte[] before = from.get(e.getKey());
                boolean diff = before != null && before.length == e.getValue().length;
                byte[] raw = diff ? CheckpointDelta.difference(before, null, e.getValue(), false) : e.getValue();
                java.io.ByteArrayOutputStream packed = new java.io.ByteArrayOutputStream();
                try (java.util.zip.DeflaterOutputStream z = new java.util.zip.DeflaterOutputStream(packed)) {
                    z.write(raw);
                }
                data.writeUTF(e.getKey());
                data.writeByte(diff ? 1 : 0);
                data.writeInt(raw.length);
                data.writeInt(packed.size());
                data.write(packed.toByteArray());
            }
        }
        return out.toByteArray();
    }

    private static byte[] words(int[] values) {
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(4 * values.length)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            buffer.putInt(v);
        }
        return buffer.array();
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
