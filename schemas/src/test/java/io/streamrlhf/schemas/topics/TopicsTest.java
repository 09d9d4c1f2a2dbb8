package io.streamrlhf.schemas.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.schemas.ContractSamples;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.registry.InMemorySchemaRegistryClient;
import io.streamrlhf.schemas.serde.AvroSerdeConfig;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.header.Headers;
import org.junit.jupiter.api.Test;

class TopicsTest {
    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

    private Topics topics(String prefix) {
        return Topics.builder().prefix(prefix).partitions(6).registryClient(registry).build();
    }

    @Test
    void everyTopicOfTheDesignWithItsPrefixedName() {
        Topics topics = topics("rlhf.");
        assertThat(topics.all()).extracting(TopicSpec::name).containsExactly(
                "rlhf.prompts", "rlhf.generations", "rlhf.scored", "rlhf.feedback", "rlhf.preferences",
                "rlhf.policy.versions", "rlhf.rm.versions", "rlhf.checkpoints", "rlhf.metrics",
                "rlhf.learner.lease",
                "rlhf.prompts.dlq", "rlhf.generations.dlq", "rlhf.scored.dlq", "rlhf.feedback.dlq",
                "rlhf.preferences.dlq", "rlhf.policy.versions.dlq");
        assertThat(topics.all()).extracting(TopicSpec::name).doesNotHaveDuplicates();
        assertThat(topics("exp7-").prompts().name()).isEqualTo("exp7-prompts");
        assertThat(topics("").scored().name()).isEqualTo("scored");
        assertThat(topics.byName("rlhf.metrics")).containsSame(topics.metrics());
        assertThat(topics.byName("rlhf.nothing")).isEmpty();
        assertThat(Topics.checkpointsName(Map.of(TopicsConfig.PREFIX, "exp7-"))).as("without a registry")
                .isEqualTo(topics("exp7-").checkpoints().name());
    }

    @Test
    void partitionsRetentionAndCompactionFollowTheTopicsRole() {
        Topics topics = topics("rlhf.");
        assertThat(topics.generations().partitions()).isEqualTo(6);
        assertThat(topics.generations().configs()).containsEntry("retention.ms", "604800000");
        assertThat(topics.prompts().configs()).containsEntry("retention.ms", "-1");
        assertThat(topics.feedback().configs()).containsEntry("retention.ms", "-1");
        for (TopicSpec<?, ?> versions : new TopicSpec<?, ?>[] {topics.policyVersions(), topics.rmVersions()}) {
            assertThat(versions.compacted()).as(versions.name()).isTrue();
            assertThat(versions.partitions()).isEqualTo(1);
        }
        assertThat(topics.checkpoints().compacted()).isTrue();
        assertThat(topics.checkpoints().configs()).containsEntry("max.message.bytes", "8388608");
        assertThat(topics.learnerLease().compacted()).isTrue();
        assertThat(topics.learnerLease().partitions()).as("one partition: one leader").isEqualTo(1);
        assertThat(topics.metrics().compacted()).isFalse();
        assertThat(topics.metrics().configs()).containsEntry("retention.ms", "2592000000");

        TopicSpec<byte[], byte[]> dlq = topics.dlq(topics.generations());
        assertThat(dlq.name()).isEqualTo("rlhf.generations.dlq");
        assertThat(dlq.partitions()).isEqualTo(6);
        assertThat(dlq.configs()).containsEntry("retention.ms", "2592000000");
        assertThatThrownBy(() -> topics.dlq(dlq)).hasMessageContaining("is itself a dead-letter topic");
    }

    @Test
    void newTopicCarriesPartitionsReplicationAndConfigs() {
        Topics topics = Topics.builder().registryClient(registry).replicationFactor((short) 3).build();
        NewTopic request = topics.policyVersions().toNewTopic();
        assertThat(request.name()).isEqualTo("rlhf.policy.versions");
        assertThat(request.numPartitions()).isEqualTo(1);
        assertThat(request.replicationFactor()).isEqualTo((short) 3);
        assertThat(request.configs()).containsEntry("cleanup.policy", "compact");
        // Broker default replication when none is configured.
        assertThat(topics(TopicsConfig.DEFAULT_PREFIX).prompts().toNewTopic().replicationFactor()).isEqualTo((short) -1);
    }

    @Test
    void everyTopicDeadLettersIncludedCarriesReplicationAndMinInsyncReplicas() {
        Topics topics = Topics.builder().registryClient(registry).replicationFactor((short) 3).minInsyncReplicas(2)
                .build();
        assertThat(topics.replicationFactor()).contains((short) 3);
        assertThat(topics.minInsyncReplicas()).contains(2);
        assertThat(topics.all()).hasSize(16);
        for (TopicSpec<?, ?> topic : topics.all()) {
            NewTopic request = topic.toNewTopic();
            assertThat(request.replicationFactor()).as(topic.name()).isEqualTo((short) 3);
            assertThat(request.configs()).as(topic.name()).containsEntry("min.insync.replicas", "2");
        }
        // Role-specific configs are kept next to it.
        assertThat(topics.checkpoints().configs()).containsEntry("cleanup.policy", "compact")
                .containsEntry("max.message.bytes", String.valueOf(Topics.CHECKPOINT_MAX_MESSAGE_BYTES));
        // Unset, the broker's default applies: no topic config at all.
        assertThat(topics(TopicsConfig.DEFAULT_PREFIX).all())
                .allSatisfy(t -> assertThat(t.configs()).doesNotContainKey("min.insync.replicas"));
    }

    @Test
    void serdesOfTheCatalogShareOneRegistryClientAndRoundTrip() {
        Topics topics = topics("rlhf.");
        TopicSpec<String, Prompt> prompts = topics.prompts();
        byte[] key = prompts.keySerializer().serialize(prompts.name(), "p-000042");
        byte[] value = prompts.valueSerializer().serialize(prompts.name(), ContractSamples.prompt());

        assertThat(new String(key, StandardCharsets.UTF_8)).isEqualTo("p-000042");
        assertThat(prompts.valueDeserializer().deserialize(prompts.name(), value)).isEqualTo(ContractSamples.prompt());
        assertThat(registry.subjects()).containsExactly("rlhf.prompts-value");
        assertThat(topics.registryClient()).isSameAs(registry);
    }

    @Test
    void specsAreImmutableAndCopiesChangeOneThing() {
        TopicSpec<String, Prompt> prompts = topics("rlhf.").prompts();
        TopicSpec<String, Prompt> moved = prompts.withPrefix("other.").withPartitions(2).withConfig("segment.ms", "1000")
                .withReplicationFactor(Optional.of((short) 2));
        assertThat(moved.name()).isEqualTo("other.prompts");
        assertThat(moved.partitions()).isEqualTo(2);
        assertThat(moved.configs()).containsEntry("segment.ms", "1000").containsEntry("retention.ms", "-1");
        assertThat(prompts.name()).isEqualTo("rlhf.prompts");
        assertThat(prompts.partitions()).isEqualTo(6);
        assertThat(prompts.configs()).doesNotContainKey("segment.ms");
        assertThatThrownBy(() -> prompts.configs().put("x", "y")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> prompts.withPartitions(0)).hasMessageContaining("partitions must be >= 1");
        assertThatThrownBy(() -> prompts.withPrefix("bad prefix ")).isInstanceOf(InvalidTopicException.class);
    }

    @Test
    void createFromOneMapOfSettings() {
        String scope = "topics-test-" + System.nanoTime();
        try {
            Topics topics = Topics.create(Map.of(TopicsConfig.PREFIX, "lab.", TopicsConfig.PARTITIONS, "2",
                    TopicsConfig.STREAM_RETENTION_MS, "3600000",
                    AvroSerdeConfig.SCHEMA_REGISTRY_URL, "mock://" + scope));
            assertThat(topics.prefix()).isEqualTo("lab.");
            assertThat(topics.partitions()).isEqualTo(2);
            assertThat(topics.scored().configs()).containsEntry("retention.ms", "3600000");
            assertThat(topics.registryClient()).isSameAs(InMemorySchemaRegistryClient.scoped(scope));
        } finally {
            InMemorySchemaRegistryClient.dropScope(scope);
        }
    }

    @Test
    void registerSchemasPutsEveryContractUnderBackward() {
        registry.setGlobalCompatibility(io.streamrlhf.schemas.registry.CompatibilityLevel.NONE);
        Topics topics = topics("rlhf.");

        Map<String, Integer> ids = topics.registerSchemas();

        assertThat(ids.keySet()).containsExactly("rlhf.prompts-value", "rlhf.generations-value", "rlhf.scored-value",
                "rlhf.feedback-value", "rlhf.preferences-value", "rlhf.policy.versions-value", "rlhf.rm.versions-value",
                "rlhf.metrics-value");
        assertThat(ids.values()).doesNotHaveDuplicates();
        for (String subject : ids.keySet()) {
            assertThat(registry.compatibility(subject)).as(subject)
                    .isEqualTo(io.streamrlhf.schemas.registry.CompatibilityLevel.BACKWARD);
        }
        assertThat(registry.latest("rlhf.prompts-value").schema()).isEqualTo(Prompt.getClassSchema());
        assertThat(topics.registerSchemas()).isEqualTo(ids); // idempotent
    }

    @Test
    void dlqHeadersNameSourceAndError() {
        Headers headers = DlqHeaders.describe("rlhf.generations", 2, 99L, new IllegalStateException("x".repeat(5000)),
                "reward-stream", Instant.parse("2025-01-01T00:00:00Z"));
        assertThat(DlqHeaders.read(headers, DlqHeaders.SOURCE_TOPIC)).isEqualTo("rlhf.generations");
        assertThat(DlqHeaders.read(headers, DlqHeaders.SOURCE_PARTITION)).isEqualTo("2");
        assertThat(DlqHeaders.read(headers, DlqHeaders.SOURCE_OFFSET)).isEqualTo("99");
        assertThat(DlqHeaders.read(headers, DlqHeaders.ERROR_CLASS)).isEqualTo("java.lang.IllegalStateException");
        assertThat(DlqHeaders.read(headers, DlqHeaders.ERROR_MESSAGE)).hasSize(DlqHeaders.MAX_MESSAGE_CHARS);
        assertThat(DlqHeaders.read(headers, DlqHeaders.COMPONENT)).isEqualTo("reward-stream");
        assertThat(DlqHeaders.read(headers, DlqHeaders.FAILED_AT)).isEqualTo("2025-01-01T00:00:00Z");
        assertThat(DlqHeaders.read(headers, "missing")).isNull();
    }
}
