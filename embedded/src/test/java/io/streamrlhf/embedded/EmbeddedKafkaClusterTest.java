package io.streamrlhf.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sizes, replication defaults and refused settings of a cluster of embedded brokers; nothing is started. */
class EmbeddedKafkaClusterTest {

    @Test
    void replicationFollowsTheClusterSize() {
        assertThat(EmbeddedKafkaCluster.replicationFactorFor(1)).isEqualTo((short) 1);
        assertThat(EmbeddedKafkaCluster.minInsyncReplicasFor(1)).isEqualTo(1);
        assertThat(EmbeddedKafkaCluster.replicationFactorFor(2)).isEqualTo((short) 2);
        assertThat(EmbeddedKafkaCluster.minInsyncReplicasFor(2)).isEqualTo(1);
        assertThat(EmbeddedKafkaCluster.replicationFactorFor(3)).isEqualTo((short) 3);
        assertThat(EmbeddedKafkaCluster.minInsyncReplicasFor(3)).isEqualTo(2);
        assertThat(EmbeddedKafkaCluster.replicationFactorFor(5)).isEqualTo((short) 3);
        assertThat(EmbeddedKafkaCluster.minInsyncReplicasFor(5)).isEqualTo(2);
    }

    @Test
    void threeBrokersReplicateTheirOwnTopicsAndNewTopicsByDefault() {
        Map<String, String> three = EmbeddedKafkaCluster.defaults(3);
        assertThat(three).containsEntry("offsets.topic.replication.factor", "3")
                .containsEntry("transaction.state.log.replication.factor", "3")
                .containsEntry("transaction.state.log.min.isr", "2")
                .containsEntry("share.coordinator.state.topic.replication.factor", "3")
                .containsEntry("share.coordinator.state.topic.min.isr", "2")
                .containsEntry("default.replication.factor", "3")
                .containsEntry("min.insync.replicas", "2")
                .containsEntry("group.initial.rebalance.delay.ms", "0");
        assertThat(EmbeddedKafkaCluster.defaults(1)).isEqualTo(EmbeddedKafkaBroker.SINGLE_NODE_DEFAULTS);
    }

    @Test
    void eachNodeNamesItselfAndEveryVoter(@TempDir Path dir) {
        String voters = "1@localhost:19093,2@localhost:19095,3@localhost:19097";
        Map<String, String> props = EmbeddedKafkaBroker.nodeProperties(2, dir, 19094, 19095, voters,
                EmbeddedKafkaCluster.defaults(3), null);
        assertThat(props).containsEntry("node.id", "2")
                .containsEntry("process.roles", "broker,controller")
                .containsEntry("controller.quorum.voters", voters)
                .containsEntry("listeners", "PLAINTEXT://localhost:19094,CONTROLLER://localhost:19095")
                .containsEntry("advertised.listeners", "PLAINTEXT://localhost:19094");
    }

    @Test
    void badSizesAndOwnedKeysAreRefusedByName() {
        assertThatThrownBy(() -> EmbeddedKafkaCluster.builder().brokers(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("brokers must be 1..9, got 0");
        assertThatThrownBy(() -> EmbeddedCluster.builder().brokers(10))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got 10");
        assertThatThrownBy(() -> EmbeddedKafkaCluster.builder().property("controller.quorum.voters", "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("controller.quorum.voters");
    }

    @Test
    void aDirectoryOfAnotherClusterSizeIsRefusedBeforeAnythingStarts(@TempDir Path dir) throws Exception {
        Path single = Files.createDirectories(dir.resolve("single"));
        Files.writeString(single.resolve(EmbeddedKafkaBroker.META_PROPERTIES), "cluster.id=abc\nnode.id=1\n");
        assertThatThrownBy(() -> EmbeddedKafkaCluster.builder().brokers(3).dataDir(single).start())
                .isInstanceOf(EmbeddedStartException.class)
                .hasMessageContaining("holds a one-broker cluster");

        Path three = Files.createDirectories(dir.resolve("three").resolve("node-1"));
        assertThatThrownBy(() -> EmbeddedKafkaCluster.builder().brokers(1).dataDir(three.getParent()).start())
                .isInstanceOf(EmbeddedStartException.class)
                .hasMessageContaining("holds a cluster of several brokers");
        Files.createDirectories(dir.resolve("three").resolve("node-3"));
        assertThatThrownBy(() -> EmbeddedKafkaCluster.builder().brokers(2).dataDir(three.getParent()).start())
                .isInstanceOf(EmbeddedStartException.class)
                .hasMessageContaining("more than 2 brokers");
    }
}
