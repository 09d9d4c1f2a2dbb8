package io.streamrlhf.loop.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.loop.demo.DemoOptions;
import io.streamrlhf.loop.process.RestartingChildJvm.Restart;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class StackPlanTest {

    private static StackOptions options(int workers, int scorers, int learners) {
        return new StackOptions(Path.of("/srv/stack"), "kafka:9092", "http://registry:8080/apis/ccompat/v7", "rlhf.",
                0, workers, scorers, learners, 1, 50, null, null, null, 2, 0, 0, 1, DemoOptions.defaults());
    }

    @Test
    void eachProcessRunsItsKindsCommandWithItsKindsConfigFile() {
        StackPlan plan = StackPlan.of(options(2, 2, 1), "kafka:9092", "http://registry:8080/apis/ccompat/v7");
        assertThat(plan.processes()).extracting(StackProcess::name).containsExactly("learn-0", "train-rm", "score-0",
                "score-1", "worker-0", "worker-1", "raters", "prompts");
        StackProcess worker1 = plan.process("worker-1");
        assertThat(worker1.args()).containsSubsequence("worker", "--config", "/srv/stack/conf/worker.properties")
                .containsSubsequence("--worker-id", "stack-worker-1");
        assertThat(worker1.sharedArgs()).isEqualTo(plan.process("worker-0").sharedArgs())
                .doesNotContain("--worker-id");
        assertThat(plan.process("score-1").args()).containsSubsequence("--state-dir", "/srv/stack/score-1/state");
        assertThat(plan.process("train-rm").args().subList(0, 2)).containsExactly("train-rm", "--online");
        assertThat(plan.process("prompts").restart()).isEqualTo(Restart.ALWAYS);
        assertThat(plan.partitions()).as("one partition per worker and scorer").isEqualTo(2);
        assertThat(plan.configs().get(ProcessKind.WORKER)).containsEntry("bootstrap.servers", "kafka:9092")
                .containsEntry("topic.partitions", "2").doesNotContainKey("worker.id");
        assertThat(plan.configs().get(ProcessKind.LEARNER)).containsEntry("learner.init.checkpoint",
                "/srv/stack/models/sft").containsEntry("learner.checkpoint.dir", "/srv/stack/learner");
        assertThat(plan.configs().get(ProcessKind.SCORER).get("reward.sources"))
                .contains("rm:/srv/stack/models/rm-0;name=rm-0");
        assertThat(plan.warnings()).isEmpty();
    }

    @Test
    void aSecondLearnerIsStartedToStandByWithTheSameConfig() {
        StackPlan plan = StackPlan.of(options(1, 1, 2), "kafka:9092", "http://registry:8080/apis/ccompat/v7");
        List<StackProcess> learners = plan.processes().stream().filter(p -> p.kind() == ProcessKind.LEARNER).toList();
        assertThat(learners).hasSize(2);
        assertThat(learners.stream().map(StackProcess::name).distinct()).hasSize(2);
        assertThat(plan.warnings()).isEmpty();
    }

    @Test
    void theStacksOwnClusterGetsItsBrokers() {
        StackOptions three = new StackOptions(Path.of("/srv/stack"), null, null, "rlhf.", 0, 1, 1, 2, 0, 0, null,
                null, null, 2, 9092, 8081, 3, DemoOptions.defaults());
        StackProcess cluster = StackPlan.of(three, "localhost:9092", "http://localhost:8081").process("cluster");
        assertThat(cluster.args()).containsSubsequence("cluster", "up", "--brokers", "3");
        assertThatThrownBy(() -> new StackOptions(Path.of("s"), null, null, "rlhf.", 0, 1, 1, 1, 0, 0, null, null,
                null, 0, 0, 0, 0, DemoOptions.defaults())).hasMessageContaining("--brokers must be 1..9, got 0");
        assertThatThrownBy(() -> new StackOptions(Path.of("s"), "kafka:9092", "http://r", "rlhf.", 0, 1, 1, 1, 0, 0,
                null, null, null, 0, 0, 0, 3, DemoOptions.defaults())).hasMessageContaining("--brokers is the stack's "
                + "own cluster's");
    }

    @Test
    void badOptionsAreRefusedNamingTheFlag() {
        DemoOptions demo = DemoOptions.defaults();
        assertThatThrownBy(() -> new StackOptions(Path.of("s"), "kafka:9092", null, "rlhf.", 0, 1, 1, 1, 1, 0, null,
                null, null, 0, 0, 0, 1, demo)).hasMessageContaining("--bootstrap and --registry go together");
        assertThatThrownBy(() -> new StackOptions(Path.of("s"), null, null, "rlhf.", 0, 0, 1, 1, 1, 0, null, null,
                null, 0, 0, 0, 1, demo)).hasMessageContaining("--workers must be >= 1");
        assertThatThrownBy(() -> new StackOptions(Path.of("s"), null, null, "rlhf.", 0, 1, 1, 1, 2, 0, null, null,
                null, 0, 0, 0, 1, demo)).hasMessageContaining("--rm-trainers must be 0 or 1");
        assertThatThrownBy(() -> new StackOptions(Path.of("s"), null, null, "rlhf.", 0, 1, 1, 1, 0, 0,
                Path.of("/no/such/model"), "rule:length", null, 0, 0, 0, 1, demo))
                .hasMessageContaining("--model /no/such/model: no config.json");
        assertThat(List.of(ProcessKind.values())).extracting(ProcessKind::service).doesNotHaveDuplicates();
    }
}
