package io.streamrlhf.loop.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.learner.app.LearnerConfig;
import io.streamrlhf.learner.ppo.PpoConfig;
import io.streamrlhf.learner.rm.online.OnlineRmConfig;
import io.streamrlhf.producer.worker.WorkerConfig;
import io.streamrlhf.rewardstream.app.RewardStreamConfig;
import io.streamrlhf.schemas.topics.TopicsConfig;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The demo profile's keys, and what a run overlays on them. */
class DemoSettingsTest {

    private static final Map<String, Object> CLUSTER = Map.of("bootstrap.servers", "localhost:1",
            "schema.registry.url", "http://localhost:2", TopicsConfig.PREFIX, "rlhf.", TopicsConfig.PARTITIONS, 1);

    private static DemoSettings settings(DemoOptions options) {
        return new DemoSettings(options, DemoProfile.demo(), CLUSTER, Path.of("/sft"),
                List.of(Path.of("/rm/member-0"), Path.of("/rm/member-1")), StartingModels.rewardShape(),
                Path.of("/work"));
    }

    @Test
    void everyKeyOfTheProfileIsASettingOfAComponent() {
        Set<String> declared = new HashSet<>();
        declared.addAll(WorkerConfig.DEFINITION.names());
        declared.addAll(RewardStreamConfig.definition().names());
        declared.addAll(LearnerConfig.DEFINITION.names());
        declared.addAll(PpoConfig.DEFINITION.names());
        declared.addAll(OnlineRmConfig.DEFINITION.names());
        declared.addAll(TopicsConfig.definition().names());
        assertThat(DemoProfile.demo().values()).isNotEmpty();
        assertThat(declared).as("a misspelt key would be ignored by every service")
                .containsAll(DemoProfile.demo().values().keySet());
        assertThat(DemoProfile.demo().values().keySet()).as("what each run decides is not in the profile")
                .doesNotContainAnyElementsOf(DemoSettings.RUN_SPECIFIC);
    }

    @Test
    void theRunsOptionsAndDirectoriesOverlayTheProfile() {
        DemoOptions options = DemoOptions.defaults().toBuilder().batchSequences(16).groupSize(8).beta(0.2).seed(5)
                .onlineRmMethod("bt+meta").ppoOverrides(Map.of(PpoConfig.EPOCHS, "1")).build();
        DemoSettings s = settings(options);
        assertThat(s.learner()).containsEntry(LearnerConfig.BATCH_SEQUENCES, 16)
                .containsEntry(PpoConfig.MINIBATCH_SIZE, 16).containsEntry(PpoConfig.KL_COEF, 0.2)
                .containsEntry(PpoConfig.SEED, 5L).containsEntry(PpoConfig.EPOCHS, "1")
                .containsEntry(PpoConfig.CRITIC_WARMUP_UPDATES, "2")
                .containsEntry(LearnerConfig.CHECKPOINT_DIR, Path.of("/work/learner").toString())
                .containsEntry("bootstrap.servers", "localhost:1");
        assertThat(s.rewardStream()).containsEntry(RewardStreamConfig.BATCH_SIZE, 16)
                .containsEntry(RewardStreamConfig.SOURCES, "rm:/rm/member-0;name=rm-0,rm:/rm/member-1;name=rm-1")
                .containsEntry(RewardStreamConfig.REFERENCE_CHECKPOINT, Path.of("/sft").toString())
                .containsEntry(RewardStreamConfig.BATCH_MAX_WAIT_MS, "100");
        assertThat(settings(options.toBuilder().referenceInLearner(true).build()).rewardStream())
                .doesNotContainKey(RewardStreamConfig.REFERENCE_CHECKPOINT);
        assertThat(s.worker()).containsEntry(WorkerConfig.BATCH_MAX_SIZE, 16).containsEntry(WorkerConfig.SEED, 5L)
                .containsEntry(WorkerConfig.WORKER_ID, DemoSettings.WORKER_ID)
                .containsEntry(WorkerConfig.SHUTDOWN_GRACE_MS, "5000");
        assertThat(s.trainer()).containsEntry(OnlineRmConfig.ENSEMBLE_SIZE, "2")
                .containsEntry(OnlineRmConfig.METHOD, "bt+meta").containsEntry(OnlineRmConfig.SEED, "12")
                .containsEntry(OnlineRmConfig.META_GENERATIONS, "256").containsEntry(OnlineRmConfig.REPLAY_RATIO, "1")
                .containsEntry(TopicsConfig.PARTITIONS, "1").containsEntry("bootstrap.servers", "localhost:1");
        assertThat(settings(DemoOptions.defaults()).trainer()).as("no MetaRM, no generations read")
                .containsEntry(OnlineRmConfig.META_GENERATIONS, "0");
    }

    @Test
    void aMissingKeyIsNamed() {
        DemoProfile empty = DemoProfile.parse("# nothing\n");
        assertThatThrownBy(() -> empty.getInt(PpoConfig.MINIBATCH_SIZE)).hasMessageContaining("ppo.minibatch.size");
        assertThat(DemoProfile.parse(" a.b = 1 \nc.d=2\n").withPrefixes("a.")).containsExactly(Map.entry("a.b", "1"));
    }
}
