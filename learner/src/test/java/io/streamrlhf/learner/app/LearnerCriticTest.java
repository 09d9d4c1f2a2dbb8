package io.streamrlhf.learner.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.learner.checkpoint.LearnerCheckpoint;
import io.streamrlhf.learner.checkpoint.LearnerCheckpointStore;
import io.streamrlhf.learner.checkpoint.LedgerEntry;
import io.streamrlhf.learner.ppo.CheckpointableAdamW;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.checkpoint.ModelWeights;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The learner service's separate critic ({@code ppo.critic=separate}, {@code learner.critic.init}): it starts from
 * the reward model when no checkpoint holds a critic, resumes the newest checkpoint's critic, is refused when it does
 * not share the policy's tokenization, and is not loaded in shared mode.
 */
class LearnerCriticTest {

    private static final TransformerConfig SHAPE = new TransformerConfig(16, 24, 16, 1, 2);

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    private Map<String, Object> settings(String critic, Path criticInit) {
        Map<String, Object> s = new HashMap<>(Map.of(LearnerConfig.INIT_CHECKPOINT, tmp.resolve("sft").toString(),
                LearnerConfig.CHECKPOINT_DIR, tmp.resolve("learner").toString(), LearnerConfig.THREADS, 1,
                "ppo.critic", critic, "schema.registry.url", "mock://learner-critic-test"));
        if (criticInit != null) {
            s.put(LearnerConfig.CRITIC_INIT, criticInit.toString());
        }
        return s;
    }

    private static LearnerService service(Map<String, Object> settings) {
        return new LearnerService(new LearnerConfig(settings), Topics.create(settings), settings);
    }

    @Test
    void theCriticStartsFromTheRewardModelThenResumesFromTheNewestCheckpoint() {
        Path rmDir = tmp.resolve("rm");
        Checkpoint trained;
        try (TransformerPolicy sft = TransformerPolicy.create(SHAPE, 1);
             TransformerRewardModel rm = TransformerRewardModel.create(SHAPE, 2);
             TransformerRewardModel other = TransformerRewardModel.create(SHAPE, 3)) {
            CheckpointStore.save(sft.toCheckpoint(Map.of("version", "0"), null), tmp.resolve("sft"));
            CheckpointStore.save(rm.toCheckpoint(Map.of(), null), rmDir);
            try (LearnerService learner = service(settings("separate", rmDir))) {
                assertThat(learner.critic()).isNotNull();
                assertThat(ModelWeights.encode(learner.critic().block()))
                        .isEqualTo(rm.toCheckpoint(Map.of(), null).weights());
            }
            // a committed version whose critic has moved on (here: other weights) is what a restart resumes
            trained = other.toCheckpoint(Map.of("role", "critic"), new CheckpointableAdamW().state());
            LearnerCheckpointStore store = new LearnerCheckpointStore(tmp.resolve("learner"));
            store.save(new LearnerCheckpoint(1, 0, 1, 1, new double[] {1, 0.5, 0},
                    sft.toCheckpoint(Map.of("version", "1"), new CheckpointableAdamW().state()), Map.of("scored-0", 1L),
                    store.appendLedger(List.of(), List.of(new LedgerEntry("g", 1, LedgerEntry.Outcome.TRAINED,
                            "scored-0", 0))), Map.of(), trained));
        }
        try (LearnerService learner = service(settings("separate", rmDir))) {
            assertThat(learner.version()).isEqualTo(1);
            assertThat(ModelWeights.encode(learner.critic().block())).isEqualTo(trained.weights());
        }
        try (LearnerService shared = service(settings("shared", null))) {
            assertThat(shared.critic()).isNull();
            assertThat(shared.version()).isEqualTo(1);
        }
    }

    @Test
    void aCriticOfAnotherVocabularyOrAMissingInitIsRefused() {
        Path rmDir = tmp.resolve("wide-rm");
        try (TransformerPolicy sft = TransformerPolicy.create(SHAPE, 1);
             TransformerRewardModel wide = TransformerRewardModel.create(SHAPE.withVocabSize(40), 2)) {
            CheckpointStore.save(sft.toCheckpoint(Map.of("version", "0"), null), tmp.resolve("sft"));
            CheckpointStore.save(wide.toCheckpoint(Map.of(), null), rmDir);
        }
        assertThatThrownBy(() -> service(settings("separate", rmDir))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(rmDir.toString()).hasMessageContaining("vocabulary of 40 ids")
                .hasMessageContaining("tokenization");
        assertThatThrownBy(() -> new LearnerConfig(settings("separate", null))).isInstanceOf(ConfigException.class)
                .hasMessageContaining(LearnerConfig.CRITIC_INIT).hasMessageContaining("ppo.critic=separate");
        assertThat(new LearnerConfig(settings("shared", null)).criticInit()).isNull();
        assertThat(new LearnerConfig(settings("separate", rmDir)).criticInit()).isEqualTo(rmDir);
    }
}
