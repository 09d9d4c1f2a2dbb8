package io.streamrlhf.rewardstream.scoring.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.avro.ScoreSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRewardSourceTest {
    private static final TransformerConfig SHAPE = new TransformerConfig(16, 16, 16, 1, 2);
    private static final List<ScoringInput> INPUTS = List.of(
            new ScoringInput("a", "p", "r", new int[] {1, 5}, new int[] {6, 7, 2}, null),
            new ScoringInput("b", "p", "r", new int[] {1, 9, 9}, new int[] {3}, null));

    @TempDir
    Path tmp;

    private Path save(String dirName, long seed, int version) {
        try (TransformerRewardModel rm = TransformerRewardModel.create(SHAPE, seed)) {
            return CheckpointStore.save(rm.toCheckpoint(Map.of("name", "rm-x", "version", "" + version), null),
                    tmp.resolve(dirName));
        }
    }

    @Test
    void scoresABatchLikeTheModelAndCarriesNameAndVersion() {
        Path dir = save("rm-x-v4", 5, 4);
        float[] direct;
        try (TransformerRewardModel rm = TransformerRewardModel.fromCheckpoint(CheckpointStore.load(dir))) {
            direct = rm.score(List.of(INPUTS.get(0).promptTokens(), INPUTS.get(1).promptTokens()),
                    List.of(INPUTS.get(0).responseTokens(), INPUTS.get(1).responseTokens())).scores();
        }
        try (RewardSource source = RewardSources.create(RewardSpec.parse("rm:" + dir))) {
            assertThat(source.name()).isEqualTo("rm-x");
            assertThat(source.version()).isEqualTo(4);
            assertThat(source.kind()).isEqualTo(ScoreSource.NEURAL_RM);
            assertThat(source.modelRef().getName()).isEqualTo("rm-x");
            double[] scores = source.score(INPUTS);
            assertThat(scores[0]).isCloseTo(direct[0], within(1e-6));
            assertThat(scores[1]).isCloseTo(direct[1], within(1e-6));
            assertThatThrownBy(() -> source.score(List.of(ScoringInput.of("t", "text", "only"))))
                    .hasMessageContaining("without token ids and has no tokenizer");
        }
    }

    @Test
    void swapperVerifiesSha256AndSwapsOnlyNewerVersions() throws Exception {
        Path v1 = save("v1", 1, 1);
        Path v2 = save("v2", 2, 2);
        ModelRewardSource source = (ModelRewardSource) RewardSources.create(RewardSpec.parse("rm:" + v1));
        try (RewardEnsemble ensemble = RewardEnsemble.builder().add(source).build()) {
            RewardModelSwapper swapper = new RewardModelSwapper(ensemble);
            double before = source.score(INPUTS)[0];
            assertThat(swapper.apply(version("rm-x", 2, v2, "ab".repeat(32))))
                    .isEqualTo(RewardModelSwapper.Outcome.FAILED);
            assertThat(source.version()).isEqualTo(1);
            assertThat(swapper.apply(version("rm-x", 3, v2, RewardModelLoader.manifestSha256(v2))))
                    .isEqualTo(RewardModelSwapper.Outcome.SWAPPED);
            assertThat(source.version()).isEqualTo(3);
            assertThat(source.score(INPUTS)[0]).isNotCloseTo(before, within(1e-6));
            assertThat(swapper.apply(version("rm-x", 3, v1, RewardModelLoader.manifestSha256(v1))))
                    .isEqualTo(RewardModelSwapper.Outcome.ALREADY_CURRENT);
            assertThat(swapper.apply(version("other", 9, v1, RewardModelLoader.manifestSha256(v1))))
                    .isEqualTo(RewardModelSwapper.Outcome.NOT_IN_ENSEMBLE);
        }
    }

    @Test
    void catchUpAppliesTheNewerPublishedVersionsOfTheEnsemblesModelsButNotOnesThatFailed() throws Exception {
        Path v1 = save("v1", 1, 1);
        Path v2 = save("v2", 2, 2);
        ModelRewardSource source = (ModelRewardSource) RewardSources.create(RewardSpec.parse("rm:" + v1));
        try (RewardEnsemble ensemble = RewardEnsemble.builder().add(source).build()) {
            RewardModelSwapper swapper = new RewardModelSwapper(ensemble);
            List<String> asked = new java.util.ArrayList<>();
            swapper.catchUp(name -> {
                asked.add(name);
                return null;  // nothing published yet
            });
            assertThat(asked).containsExactly("rm-x");
            assertThat(source.version()).isEqualTo(1);

            RewardModelVersion corrupt = version("rm-x", 2, v2, "ab".repeat(32));
            swapper.catchUp(Map.of("rm-x", corrupt)::get);
            assertThat(swapper.hasFailed("rm-x", 2)).isTrue();
            assertThat(source.version()).isEqualTo(1);

            swapper.catchUp(Map.of("rm-x", version("rm-x", 3, v2, RewardModelLoader.manifestSha256(v2)))::get);
            assertThat(source.version()).isEqualTo(3);
            swapper.catchUp(Map.of("rm-x", version("rm-x", 2, v1, RewardModelLoader.manifestSha256(v1)))::get);
            assertThat(source.version()).as("older versions are ignored").isEqualTo(3);
        }
    }

    @Test
    void tamperedCheckpointsAndForeignUrisAreRefused() throws Exception {
        Path dir = save("tampered", 3, 1);
        String sha = RewardModelLoader.manifestSha256(dir);
        Files.write(dir.resolve(CheckpointStore.WEIGHTS), new byte[] {1, 2, 3});
        assertThatThrownBy(() -> RewardModelLoader.loadVerified(dir, sha)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("sha256");
        assertThatThrownBy(() -> RewardModelLoader.loadVerified(dir, "00")).hasMessageContaining("refusing");
        assertThat(RewardModelLoader.resolve(dir.toUri().toString())).isEqualTo(dir);
        assertThatThrownBy(() -> RewardModelLoader.resolve("kafka:rlhf.checkpoints/rm-0/3"))
                .hasMessageContaining("not supported");
    }

    private static RewardModelVersion version(String name, long v, Path dir, String sha) {
        return RewardModelVersion.newBuilder().setName(name).setVersion(v).setCheckpointUri(dir.toUri().toString())
                .setSha256(sha).setSizeBytes(1L).setCreatedAt(Instant.now()).build();
    }
}
