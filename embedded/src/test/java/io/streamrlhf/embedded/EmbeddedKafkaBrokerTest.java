package io.streamrlhf.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The broker's configuration and data-directory rules, without starting a broker. */
class EmbeddedKafkaBrokerTest {

    @Test
    void propertiesCarryTheSingleNodeSettingsTransactionsNeed(@TempDir Path dir) {
        Map<String, String> props = EmbeddedKafkaBroker.brokerProperties(dir, 19092, 19093, Map.of());
        assertThat(props).containsEntry("offsets.topic.replication.factor", "1")
                .containsEntry("transaction.state.log.replication.factor", "1")
                .containsEntry("transaction.state.log.min.isr", "1")
                .containsEntry("share.coordinator.state.topic.replication.factor", "1")
                .containsEntry("share.coordinator.state.topic.min.isr", "1")
                .containsEntry("group.initial.rebalance.delay.ms", "0");
    }

    @Test
    void propertiesWireOneCombinedNodeOnLocalhost(@TempDir Path dir) {
        Map<String, String> props = EmbeddedKafkaBroker.brokerProperties(dir, 19092, 19093, Map.of());
        assertThat(props).containsEntry("process.roles", "broker,controller")
                .containsEntry("node.id", "1")
                .containsEntry("controller.quorum.voters", "1@localhost:19093")
                .containsEntry("listeners", "PLAINTEXT://localhost:19092,CONTROLLER://localhost:19093")
                .containsEntry("advertised.listeners", "PLAINTEXT://localhost:19092")
                .containsEntry("controller.listener.names", "CONTROLLER")
                .containsEntry("log.dirs", dir.toAbsolutePath().toString());
    }

    @Test
    void extraPropertiesOverrideDefaults(@TempDir Path dir) {
        Map<String, String> props = EmbeddedKafkaBroker.brokerProperties(dir, 1, 2,
                Map.of("offsets.topic.num.partitions", "12", "log.retention.ms", "1000"));
        assertThat(props).containsEntry("offsets.topic.num.partitions", "12").containsEntry("log.retention.ms", "1000");
    }

    @Test
    void identityAndWiringKeysCannotBeOverridden() {
        for (String key : EmbeddedKafkaBroker.RESERVED_KEYS) {
            assertThatThrownBy(() -> EmbeddedKafkaBroker.builder().property(key, "x"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(key);
        }
    }

    @Test
    void invalidTimeoutsAreRejected() {
        assertThatThrownBy(() -> EmbeddedKafkaBroker.builder().startTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anUnformattedDirectoryIsReportedAsSuch(@TempDir Path dir) {
        assertThat(EmbeddedKafkaBroker.StorageState.read(dir).formatted()).isFalse();
    }

    @Test
    void metaPropertiesGiveTheClusterIdAndNodeId(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("meta.properties"), "version=1\nnode.id=1\ncluster.id=abcDEF123\n");
        EmbeddedKafkaBroker.StorageState state = EmbeddedKafkaBroker.StorageState.read(dir);
        assertThat(state.formatted()).isTrue();
        assertThat(state.clusterId()).isEqualTo("abcDEF123");
        assertThat(state.nodeId()).isEqualTo(1);
    }

    @Test
    void aDirectoryOfAnotherNodeIsRefusedBeforeStarting(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("meta.properties"), "version=1\nnode.id=7\ncluster.id=abcDEF123\n");
        assertThatThrownBy(() -> EmbeddedKafkaBroker.builder().dataDir(dir).start())
                .isInstanceOf(EmbeddedStartException.class)
                .hasMessageContaining("belongs to Kafka node 7")
                .hasMessageContaining(dir.toString());
        // A persistent directory is never deleted on failure.
        assertThat(dir.resolve("meta.properties")).exists();
    }

    @Test
    void aMetaPropertiesWithoutIdsIsRefused(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("meta.properties"), "version=0\n");
        assertThatThrownBy(() -> EmbeddedKafkaBroker.StorageState.read(dir))
                .isInstanceOf(EmbeddedStartException.class)
                .hasMessageContaining("no cluster.id or node.id");
    }
}
