package io.streamrlhf.models.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.reward.RewardScores;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.training.LmTrainer;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {

    private static final TransformerConfig CONFIG = new TransformerConfig(24, 16, 32, 2, 4);
    private static final int[] PROBE = {3, 1, 4, 1, 5, 9, 2, 6};

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    static float[] logits(PolicyModel p) {
        try (NDManager m = p.manager().newSubManager()) {
            return p.forward(m.create(PROBE, new Shape(1, PROBE.length)), null, false).logits().toFloatArray();
        }
    }

    @Test
    void policyRoundTripThroughADirectoryGivesIdenticalOutputs() {
        try (TransformerPolicy policy = TransformerPolicy.create(CONFIG, 1)) {
            byte[] adam = {1, 2, 3, 4};
            Path dir = CheckpointStore.save(policy.toCheckpoint(Map.of("version", "7"), adam), tmp.resolve("v7"));
            assertThat(dir.resolve(CheckpointStore.MANIFEST)).exists();
            Checkpoint loaded = CheckpointStore.load(dir);
            assertThat(loaded.kind()).isEqualTo(ModelKind.POLICY);
            assertThat(loaded.config()).isEqualTo(CONFIG);
            assertThat(loaded.metadata()).containsEntry("version", "7");
            assertThat(loaded.optimizerState()).containsExactly(adam);
            try (TransformerPolicy restored = TransformerPolicy.fromCheckpoint(loaded)) {
                assertThat(logits(restored)).containsExactly(logits(policy));
            }
        }
    }

    @Test
    void rewardModelRoundTripThroughBytesGivesIdenticalScores() {
        try (TransformerRewardModel rm = TransformerRewardModel.create(CONFIG, 2)) {
            byte[] bytes = CheckpointStore.toBytes(rm.toCheckpoint(Map.of(), null));
            Checkpoint back = CheckpointStore.fromBytes(bytes);
            assertThat(back.kind()).isEqualTo(ModelKind.REWARD_MODEL);
            assertThat(back.hasOptimizerState()).isFalse();
            try (TransformerRewardModel restored = TransformerRewardModel.fromCheckpoint(back)) {
                List<int[]> conv = List.of(new int[] {1, 2, 3}, new int[] {4, 5});
                List<int[]> resp = List.of(new int[] {6, 7}, new int[] {8, 9, 10, 11});
                RewardScores a = rm.score(conv, resp);
                RewardScores b = restored.score(conv, resp);
                assertThat(b.scores()).containsExactly(a.scores());
                assertThat(b.pooled()).isDeepEqualTo(a.pooled());
            }
        }
    }

    @Test
    void aFlippedByteInAnyFileIsRefusedNamingTheFile() throws Exception {
        try (TransformerPolicy policy = TransformerPolicy.create(CONFIG, 3)) {
            Checkpoint c = policy.toCheckpoint(Map.of(), new byte[] {9, 9, 9});
            for (String file : List.of(CheckpointStore.WEIGHTS, CheckpointStore.CONFIG, CheckpointStore.OPTIMIZER)) {
                Path dir = CheckpointStore.save(c, tmp.resolve("flip-" + file));
                byte[] content = Files.readAllBytes(dir.resolve(file));
                content[content.length / 2] ^= 0x01;
                Files.write(dir.resolve(file), content);
                assertThatThrownBy(() -> CheckpointStore.load(dir))
                        .isInstanceOf(CheckpointException.class)
                        .hasMessageContaining("file " + file + " fails its sha256 check");
            }
            byte[] bytes = CheckpointStore.toBytes(c);
            bytes[bytes.length - 1] ^= 0x10;  // last entry: the manifest
            assertThatThrownBy(() -> CheckpointStore.fromBytes(bytes)).isInstanceOf(CheckpointException.class);
            byte[] bytes2 = CheckpointStore.toBytes(c);
            bytes2[200] ^= 0x10;  // inside config.json
            assertThatThrownBy(() -> CheckpointStore.fromBytes(bytes2)).hasMessageContaining("config.json");
        }
    }

    @Test
    void missingOrExtraFilesAreRefused() throws Exception {
        try (TransformerPolicy policy = TransformerPolicy.create(CONFIG, 3)) {
            Path dir = CheckpointStore.save(policy.toCheckpoint(Map.of(), null), tmp.resolve("m"));
            Files.write(dir.resolve(CheckpointStore.OPTIMIZER), new byte[] {1});
            assertThatThrownBy(() -> CheckpointStore.verify(dir)).hasMessageContaining("optimizer.bin is not in the manifest");
            Files.delete(dir.resolve(CheckpointStore.OPTIMIZER));
            Files.delete(dir.resolve(CheckpointStore.WEIGHTS));
            assertThatThrownBy(() -> CheckpointStore.verify(dir))
                    .hasMessageContaining("weights.ndlist is listed in the manifest but missing");
        }
    }

    @Test
    void saveReplacesAnExistingCheckpointAndLeavesNoTemporaries() throws Exception {
        try (TransformerPolicy a = TransformerPolicy.create(CONFIG, 4);
             TransformerPolicy b = TransformerPolicy.create(CONFIG, 5)) {
            Path dir = tmp.resolve("latest");
            CheckpointStore.save(a.toCheckpoint(Map.of("v", "a"), null), dir);
            CheckpointStore.save(b.toCheckpoint(Map.of("v", "b"), null), dir);
            assertThat(CheckpointStore.load(dir).metadata()).containsEntry("v", "b");
            try (var listing = Files.list(tmp)) {
                assertThat(listing.map(p -> p.getFileName().toString())).containsExactly("latest");
            }
        }
    }

    @Test
    void hotSwapChangesTheOutputsOfTheRunningInstanceInPlace() {
        try (TransformerPolicy running = TransformerPolicy.create(CONFIG, 6);
             TransformerPolicy newer = TransformerPolicy.create(CONFIG, 7)) {
            var firstParam = running.block().getParameters().get(0).getValue().getArray();
            float[] before = logits(running);
            running.loadWeights(CheckpointStore.fromBytes(CheckpointStore.toBytes(newer.toCheckpoint(Map.of(), null))));
            float[] after = logits(running);
            assertThat(after).isNotEqualTo(before);
            assertThat(after).containsExactly(logits(newer));
            // same native arrays: nothing was reallocated
            assertThat(running.block().getParameters().get(0).getValue().getArray()).isSameAs(firstParam);
        }
    }

    @Test
    void hotSwapRefusesAnotherShapeOrKindAndLeavesTheModelUntouched() {
        try (TransformerPolicy running = TransformerPolicy.create(CONFIG, 6);
             TransformerPolicy wider = TransformerPolicy.create(new TransformerConfig(24, 16, 64, 2, 4), 1);
             TransformerRewardModel rm = TransformerRewardModel.create(CONFIG, 1)) {
            float[] before = logits(running);
            assertThatThrownBy(() -> running.loadWeights(wider.toCheckpoint(Map.of(), null)))
                    .hasMessageContaining("does not match");
            assertThatThrownBy(() -> running.loadWeights(rm.toCheckpoint(Map.of(), null)))
                    .hasMessageContaining("REWARD_MODEL, not a POLICY");
            // weights of another shape under the right config: refused by parameter name and shape
            Checkpoint forged = new Checkpoint(ModelKind.POLICY, "transformer", CONFIG,
                    wider.toCheckpoint(Map.of(), null).weights(), null, Map.of());
            assertThatThrownBy(() -> running.loadWeights(forged)).hasMessageContaining("parameter '");
            assertThat(logits(running)).containsExactly(before);
        }
    }

    @Test
    void referenceCopyNeverChangesDuringTraining() {
        try (TransformerPolicy policy = TransformerPolicy.create(CONFIG, 8);
             TransformerPolicy reference = policy.referenceCopy()) {
            float[] ref0 = logits(reference);
            float[] pol0 = logits(policy);
            assertThat(ref0).containsExactly(pol0);
            LmTrainer trainer = new LmTrainer(policy, 1e-2f);
            Random random = new Random(1);
            for (int s = 0; s < 20; s++) {
                int[][] rows = new int[4][10];
                for (int[] row : rows) {
                    for (int j = 0; j < row.length; j++) {
                        row[j] = random.nextInt(24);
                    }
                }
                trainer.step(rows);
            }
            assertThat(logits(policy)).isNotEqualTo(pol0);
            assertThat(logits(reference)).containsExactly(ref0);
            assertThat(reference.block().getParameters().get(0).getValue().requiresGradient()).isFalse();
        }
    }
}
