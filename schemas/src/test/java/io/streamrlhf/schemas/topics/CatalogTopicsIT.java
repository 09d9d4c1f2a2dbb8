package io.streamrlhf.schemas.topics;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.schemas.ClusterFixture;
import io.streamrlhf.schemas.registry.RestSchemaRegistryClient;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

/** A cluster with the catalog's topics, on the real broker and registry. */
class CatalogTopicsIT {

    @Test
    void createsEveryTopicRegistersTheContractsAndHandsOutIndependentSettings() throws Exception {
        EmbeddedCluster cluster = SharedCluster.get();
        String prefix = ClusterFixture.uniquePrefix("catalog");
        CatalogTopics catalog = CatalogTopics.on(cluster.bootstrapServers(), cluster.registryUrl()).prefix(prefix)
                .partitions(2).registerSchemas(true).create();

        List<String> names = catalog.topics().all().stream().map(TopicSpec::name).toList();
        assertThat(names).allMatch(n -> n.startsWith(prefix));
        assertThat(catalog.report().created()).containsExactlyElementsOf(names);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            var described = admin.describeTopics(List.of(catalog.topics().scored().name())).allTopicNames().get();
            assertThat(described.get(catalog.topics().scored().name()).partitions()).hasSize(2);
        }
        String promptsSubject = catalog.topics().prompts().name() + "-value";
        assertThat(new RestSchemaRegistryClient(cluster.registryUrl()).compatibility(promptsSubject))
                .isEqualTo(io.streamrlhf.schemas.registry.CompatibilityLevel.BACKWARD);

        // Each caller gets its own copy to add component keys to.
        Map<String, Object> a = catalog.settings();
        a.put("worker.id", "w-1");
        assertThat(catalog.settings()).doesNotContainKey("worker.id")
                .containsEntry(TopicsConfig.PREFIX, prefix)
                .containsEntry("bootstrap.servers", cluster.bootstrapServers());
        assertThat(catalog.bootstrapServers()).isEqualTo(cluster.bootstrapServers());

        // Again with the same prefix: nothing new to create.
        CatalogTopics again = CatalogTopics.on(cluster.bootstrapServers(), cluster.registryUrl()).prefix(prefix)
                .partitions(2).create();
        assertThat(again.report().created()).isEmpty();
        assertThat(again.report().existing()).containsExactlyElementsOf(names);
    }
}
