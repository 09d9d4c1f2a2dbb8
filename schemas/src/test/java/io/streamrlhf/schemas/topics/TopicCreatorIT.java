package io.streamrlhf.schemas.topics;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.schemas.ClusterFixture;
import io.streamrlhf.schemas.registry.InMemorySchemaRegistryClient;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;

/** The topic creator against the real broker: creates what is missing, then nothing; flags drift. */
class TopicCreatorIT {

    @Test
    void createsEveryTopicOnceThenReportsThemAsExisting() throws Exception {
        EmbeddedCluster cluster = SharedCluster.get();
        Topics topics = Topics.builder().prefix(ClusterFixture.uniquePrefix("creator")).partitions(3)
                .registryClient(new InMemorySchemaRegistryClient()).build();
        List<String> names = topics.all().stream().map(TopicSpec::name).toList();

        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            TopicCreator creator = new TopicCreator(admin);

            TopicCreationReport first = creator.create(topics.all());
            assertThat(first.created()).containsExactlyElementsOf(names);
            assertThat(first.existing()).isEmpty();
            assertThat(first.summary()).isEqualTo("created 16 topic(s), 0 already existed");

            TopicCreationReport second = creator.create(topics.all());
            assertThat(second.created()).isEmpty();
            assertThat(second.existing()).containsExactlyElementsOf(names);
            assertThat(second.hasMismatches()).isFalse();

            // The broker holds what the specs say.
            var described = admin.describeTopics(names).allTopicNames().get();
            for (TopicSpec<?, ?> spec : topics.all()) {
                assertThat(described.get(spec.name()).partitions()).as(spec.name()).hasSize(spec.partitions());
            }
            ConfigResource versions = new ConfigResource(ConfigResource.Type.TOPIC, topics.policyVersions().name());
            Config config = admin.describeConfigs(List.of(versions)).all().get().get(versions);
            assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
            ConfigResource prompts = new ConfigResource(ConfigResource.Type.TOPIC, topics.prompts().name());
            assertThat(admin.describeConfigs(List.of(prompts)).all().get().get(prompts).get("retention.ms").value())
                    .isEqualTo("-1");

            // An existing topic whose partition count differs from its spec is flagged, not changed.
            TopicCreationReport drift = creator.create(List.of(topics.scored().withPartitions(5)));
            assertThat(drift.created()).isEmpty();
            assertThat(drift.partitionMismatches()).containsEntry(topics.scored().name(),
                    new TopicCreationReport.PartitionMismatch(5, 3));
            assertThat(drift.summary()).contains(topics.scored().name() + " (spec 5, actual 3)");
            assertThat(admin.describeTopics(List.of(topics.scored().name())).allTopicNames().get()
                    .get(topics.scored().name()).partitions()).hasSize(3);
        }
    }
}
