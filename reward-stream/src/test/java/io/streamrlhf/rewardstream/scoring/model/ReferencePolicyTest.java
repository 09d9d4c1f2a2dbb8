package io.streamrlhf.rewardstream.scoring.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.policy.ResponseLogProbs;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.rewardstream.Fixtures;
import io.streamrlhf.schemas.avro.Generation;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReferencePolicyTest {

    @TempDir
    Path tmp;

    @Test
    void computesTheLoadedPolicysLogProbsAndNamesItsWeights() {
        Path dir = tmp.resolve("sft");
        Checkpoint saved = Fixtures.savePolicy(dir, 3);
        List<Generation> batch = List.of(Fixtures.generation("g1", "p1", "a bb ccc"),
                Fixtures.generation("g2", "p2", "dddd"));
        float[][] direct;
        try (TransformerPolicy policy = TransformerPolicy.fromCheckpoint(CheckpointStore.load(dir))) {
            direct = ResponseLogProbs.compute(policy, List.of(new int[] {1, 5, 6}, new int[] {1, 5, 6}),
                    List.of(new int[] {5, 6, 7}, new int[] {8}));
        }
        try (ReferencePolicy reference = ReferencePolicy.load(dir)) {
            assertThat(reference.id()).isEqualTo(saved.weightsId()).startsWith("sha256:").hasSize(7 + 64);
            float[][] got = reference.logprobs(batch);
            assertThat(got[0]).hasSize(3).containsExactly(direct[0], within(1e-6f));
            assertThat(got[1]).hasSize(1).containsExactly(direct[1], within(1e-6f));
        }
        assertThat(Fixtures.savePolicy(tmp.resolve("other"), 4).weightsId()).as("other weights, another id")
                .isNotEqualTo(saved.weightsId());
    }

    @Test
    void refusesWhatIsNotAPolicyCheckpoint() {
        Path rm;
        try (TransformerRewardModel model = TransformerRewardModel.create(Fixtures.POLICY_SHAPE, 1)) {
            rm = CheckpointStore.save(model.toCheckpoint(Map.of(), null), tmp.resolve("rm"));
        }
        assertThatThrownBy(() -> ReferencePolicy.load(rm)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("REWARD_MODEL").hasMessageContaining("not a POLICY");
        assertThatThrownBy(() -> ReferencePolicy.load(tmp.resolve("missing")))
                .isInstanceOf(CheckpointException.class);
    }
}
