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
                "score-1", "worker-0", "worker-1", "feedback", "raters", "prompts");
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
        assertThat(worker1.args()).as("the starting policy the stack publishes on Kafka")
                .containsSubsequence("--checkpoint", "kafka:rlhf.checkpoints/sft/0");
        assertThat(plan.configs().get(ProcessKind.LEARNER)).containsEntry("learner.init.checkpoint",
                "kafka:rlhf.checkpoints/sft/0").containsEntry("learner.checkpoint.dir", "/srv/stack/learner");
        assertThat(plan.configs().get(ProcessKind.RM_TRAINER)).as("its state travels with each version")
                .containsEntry("rm.state.topic.enabled", "true");
        assertThat(plan.configs().get(ProcessKind.SCORER).get("reward.sources"))
                .contains("rm:/srv/stack/models/rm-0;name=rm-0");
        assertThat(plan.configs().get(ProcessKind.SCORER)).as("the KL reference the stack publishes on Kafka")
                .containsEntry("scoring.reference.checkpoint", "kafka:rlhf.checkpoints/sft/0");
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
        StackPlan plan = StackPlan.of(three, "localhost:9092,localhost:9093,localhost:9094", "http://localhost:8081",
                "cluster-id-1");
        assertThat(plan.processes()).extracting(StackProcess::name).startsWith("broker-1", "broker-2", "broker-3",
                "registry").doesNotContain("cluster");
        StackProcess node2 = plan.process("broker-2");
        assertThat(node2.args()).containsExactly("cluster", "node", "--node-id", "2", "--brokers", "3",
                "--kafka-port", "9092", "--controller-port", "9095", "--data-dir", "/srv/stack/cluster",
                "--cluster-id", "cluster-id-1");
        assertThat(node2.restart()).as("a dead broker is restarted and rejoins").isEqualTo(Restart.ALWAYS);
        assertThat(node2.sharedArgs()).isEqualTo(plan.process("broker-1").sharedArgs());
        assertThat(plan.process("registry").args()).containsExactly("cluster", "registry", "--registry-port", "8081",
                "--data-dir", "/srv/stack/cluster");
        assertThat(plan.process("registry").restart()).as("a dead registry is restarted on its port and data")
                .isEqualTo(Restart.ALWAYS);
        assertThatThrownBy(() -> StackPlan.of(three, "localhost:9092", "http://localhost:8081"))
                .hasMessageContaining("needs their cluster id");
        StackOptions one = new StackOptions(Path.of("/srv/stack"), null, null, "rlhf.", 0, 1, 1, 1, 0, 0, null,
                null, null, 2, 9092, 8081, 1, DemoOptions.defaults());
        assertThat(StackPlan.of(one, "localhost:9092", "http://localhost:8081").process("cluster").args())
                .containsSubsequence("cluster", "up", "--brokers", "1");
        assertThatThrownBy(() -> new StackOptions(Path.of("s"), null, null, "rlhf.", 0, 1, 1, 1, 0, 0, null, null,
                null, 0, 0, 0, 0, DemoOptions.defaults())).hasMessageContaining("--brokers must be 1..9, got 0");
        assertThatThrownBy(() -> new StackOptions(Path.of("s"), "kafka:9092", "http://r", "rlhf.", 0, 1, 1, 1, 0, 0,
                null, null, null, 0, 0, 0, 3, DemoOptions.defaults())).hasMessageContaining("--brokers is the stack's "
                + "own cluster's");
    }

    @Test
    void anAddedWorkerOrScorerRunsItsKindsCommandWithItsOwnInstanceFlags() {
        StackPlan plan = StackPlan.of(options(2, 2, 1), "kafka:9092", "http://registry:8080/apis/ccompat/v7");
        StackProcess worker2 = plan.instance(ProcessKind.WORKER, 2);
        assertThat(worker2.name()).isEqualTo("worker-2");
        assertThat(worker2.args()).containsSubsequence("--worker-id", "stack-worker-2");
        assertThat(worker2.sharedArgs()).isEqualTo(plan.process("worker-0").sharedArgs());
        assertThat(worker2.group()).isEqualTo(plan.process("worker-0").group());
        assertThat(plan.instance(ProcessKind.WORKER, 1)).isEqualTo(plan.process("worker-1"));
        StackProcess score2 = plan.instance(ProcessKind.SCORER, 2);
        assertThat(score2.args()).containsSubsequence("--state-dir", "/srv/stack/score-2/state");
        assertThat(score2.group()).isEqualTo(plan.process("score-0").group());
        assertThatThrownBy(() -> plan.instance(ProcessKind.LEARNER, 2))
                .hasMessageContaining("only workers and scorers are added to or removed from a running stack, not "
                        + "learn");
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
