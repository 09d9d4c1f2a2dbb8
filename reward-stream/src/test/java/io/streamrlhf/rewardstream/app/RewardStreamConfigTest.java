package io.streamrlhf.rewardstream.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.rewardstream.scoring.Aggregation;
import io.streamrlhf.rewardstream.scoring.SourceFailurePolicy;
import io.streamrlhf.schemas.topics.Topics;
import io.streamrlhf.schemas.topics.TopicsConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RewardStreamConfigTest {

    @Test
    void defaultsAreDocumentedAndSane() {
        RewardStreamConfig c = new RewardStreamConfig(Map.of());
        assertThat(c.applicationId()).isEqualTo("rlhf-reward-stream");
        assertThat(c.sources()).extracting(s -> s.kind() + ":" + s.target()).containsExactly("rule:length");
        assertThat(c.aggregation()).isEqualTo(Aggregation.MEAN);
        assertThat(c.onSourceFailure()).isEqualTo(SourceFailurePolicy.DLQ);
        assertThat(c.batchSize()).isEqualTo(32);
        assertThat(c.batchMaxWait()).isEqualTo(Duration.ofMillis(200));
        assertThat(c.pipelined()).isTrue();
        assertThat(new RewardStreamConfig(Map.of(RewardStreamConfig.PIPELINE, "false")).pipelined()).isFalse();
        assertThat(c.joinWindow()).isEqualTo(Duration.ofHours(24));
        assertThat(c.pendingMaxWait()).isEqualTo(Duration.ofMinutes(10));
        assertThat(c.pendingMaxLabels()).isEqualTo(10_000);
        assertThat(new RewardStreamConfig(Map.of(RewardStreamConfig.PENDING_MAX_WAIT_MS, "0")).pendingMaxWait())
                .isZero();
        assertThat(c.normalization().enabled()).isTrue();
        assertThat(c.normalization().clip()).isEqualTo(5.0);
        for (ConfigDef.ConfigKey key : RewardStreamConfig.definition().configKeys().values()) {
            assertThat(key.documentation).as(key.name).isNotBlank();
        }
    }

    @Test
    void parsesValuesAndRejectsBadOnesByName() {
        RewardStreamConfig c = new RewardStreamConfig(Map.of(RewardStreamConfig.SOURCES, "rule:length,rm:/x",
                RewardStreamConfig.AGGREGATION, "mean_minus_k_std", RewardStreamConfig.UNCERTAINTY_K, "0.5",
                RewardStreamConfig.ON_SOURCE_FAILURE, "skip", RewardStreamConfig.BATCH_SIZE, "8"));
        assertThat(c.sources()).hasSize(2);
        assertThat(c.aggregation()).isEqualTo(Aggregation.MEAN_MINUS_K_STD);
        assertThat(c.uncertaintyK()).isEqualTo(0.5);
        assertThat(c.onSourceFailure()).isEqualTo(SourceFailurePolicy.SKIP);
        assertThatThrownBy(() -> new RewardStreamConfig(Map.of(RewardStreamConfig.SOURCES, "length")))
                .isInstanceOf(ConfigException.class).hasMessageContaining(RewardStreamConfig.SOURCES)
                .hasMessageContaining("KIND:TARGET");
        assertThatThrownBy(() -> new RewardStreamConfig(Map.of(RewardStreamConfig.AGGREGATION, "median")))
                .hasMessageContaining("median");
        assertThatThrownBy(() -> new RewardStreamConfig(Map.of(RewardStreamConfig.BATCH_SIZE, "0")))
                .hasMessageContaining(RewardStreamConfig.BATCH_SIZE);
        assertThatThrownBy(() -> new RewardStreamConfig(Map.of(RewardStreamConfig.ON_SOURCE_FAILURE, "drop")))
                .hasMessageContaining("drop");
        assertThatThrownBy(() -> new RewardStreamConfig(Map.of(RewardStreamConfig.PENDING_MAX_WAIT_MS, "-1")))
                .hasMessageContaining(RewardStreamConfig.PENDING_MAX_WAIT_MS);
        assertThatThrownBy(() -> new RewardStreamConfig(Map.of(RewardStreamConfig.PENDING_MAX_LABELS, "0")))
                .hasMessageContaining(RewardStreamConfig.PENDING_MAX_LABELS);
    }

    @Test
    void streamsRunExactlyOnceWithTheDeadLetterHandlersAndWithoutTheCatalogKeys() {
        Map<String, Object> settings = new HashMap<>();
        settings.put("bootstrap.servers", "b:9092");
        settings.put("schema.registry.url", "mock://config-test");
        settings.put("topic.prefix", "x.");
        settings.put(RewardStreamConfig.BATCH_SIZE, "4");
        settings.put("security.protocol", "SSL");
        RewardStreamConfig c = new RewardStreamConfig(settings);
        Properties p = ScoringApp.streamsProperties(settings, c, Topics.create(settings), new SimpleMeterRegistry());
        assertThat(p.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG)).isEqualTo(StreamsConfig.EXACTLY_ONCE_V2);
        assertThat(p.get(StreamsConfig.APPLICATION_ID_CONFIG)).isEqualTo("rlhf-reward-stream");
        assertThat(p).doesNotContainKeys("topic.prefix", RewardStreamConfig.BATCH_SIZE);
        assertThat(p.get("security.protocol")).isEqualTo("SSL");
        assertThat(p.get(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG)).isNotNull();
        assertThat(p.get("rlhf.dlq.source.topics")).isEqualTo("x.generations,x.feedback");
        assertThat(p.get(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG)).isEqualTo(ScoringApp.DEFAULT_COMMIT_INTERVAL_MS);

        settings.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 250L);
        assertThat(ScoringApp.streamsProperties(settings, c, Topics.create(settings), new SimpleMeterRegistry())
                .get(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG)).as("the user's interval stays").isEqualTo(250L);

        settings.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        assertThat(ScoringApp.streamsProperties(settings, c, Topics.create(settings), new SimpleMeterRegistry())
                .get(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG))
                .as("the global thread would drop dead letters, so its failures stop the app instead").isEqualTo(false);

        // Internal topics: the broker's defaults until the catalog names a replication, then the catalog's.
        assertThat(p).doesNotContainKeys(StreamsConfig.REPLICATION_FACTOR_CONFIG, "topic.min.insync.replicas");
        settings.put(TopicsConfig.REPLICATION_FACTOR, "3");
        settings.put(TopicsConfig.MIN_INSYNC_REPLICAS, "2");
        Properties replicated = ScoringApp.streamsProperties(settings, c, Topics.create(settings),
                new SimpleMeterRegistry());
        assertThat(replicated.get(StreamsConfig.REPLICATION_FACTOR_CONFIG)).isEqualTo(3);
        assertThat(replicated.get(StreamsConfig.topicPrefix("min.insync.replicas"))).isEqualTo("2");
        assertThat(new StreamsConfig(replicated).getInt(StreamsConfig.REPLICATION_FACTOR_CONFIG)).isEqualTo(3);
    }

    @Test
    void theDefaultInstanceIdFollowsTheHostAndTheStateDirectory() {
        String a = RewardStreamConfig.defaultInstanceId("node-1", Path.of("/srv/stack/score-0/state"));
        assertThat(a).matches("node-1-s[0-9a-f]{8}");
        assertThat(RewardStreamConfig.defaultInstanceId("node-1", Path.of("/srv/stack/score-0/../score-0/state")))
                .as("the same directory, spelled otherwise").isEqualTo(a);
        assertThat(RewardStreamConfig.defaultInstanceId("node-1", Path.of("/srv/stack/score-1/state")))
                .as("another instance of the host").isNotEqualTo(a);
        assertThat(RewardStreamConfig.defaultInstanceId("node-2", Path.of("/srv/stack/score-0/state")))
                .as("another host").isNotEqualTo(a);
        assertThat(RewardStreamConfig.defaultInstanceId("host name#7", Path.of("/s")))
                .matches("host_name_7-s[0-9a-f]{8}");
        assertThat(RewardStreamConfig.defaultInstanceId("h".repeat(300), Path.of("/s")))
                .hasSize(RewardStreamConfig.MAX_INSTANCE_ID);

        RewardStreamConfig c = new RewardStreamConfig(Map.of(RewardStreamConfig.STATE_DIR, "/srv/stack/score-0/state"));
        assertThat(c.instanceId()).endsWith(a.substring(a.lastIndexOf('-')));
        assertThat(c.groupInstanceId()).contains(c.instanceId());
        assertThat(new RewardStreamConfig(Map.of(RewardStreamConfig.INSTANCE_ID, "scorer-pod-3")).groupInstanceId())
                .contains("scorer-pod-3");
        assertThat(new RewardStreamConfig(Map.of(RewardStreamConfig.STATIC_MEMBERSHIP, "false")).groupInstanceId())
                .isEmpty();
        assertThatThrownBy(() -> new RewardStreamConfig(Map.of(RewardStreamConfig.INSTANCE_ID, "pod 3")))
                .isInstanceOf(ConfigException.class).hasMessageContaining(RewardStreamConfig.INSTANCE_ID)
                .hasMessageContaining("pod 3");
    }

    @Test
    void theMainConsumerIsAStaticMemberWithAShorterSessionTimeoutThatTheSettingsMayOverride() {
        Map<String, Object> settings = new HashMap<>();
        settings.put("bootstrap.servers", "b:9092");
        settings.put("schema.registry.url", "mock://membership-test");
        settings.put(RewardStreamConfig.INSTANCE_ID, "scorer-a");
        settings.put(RewardStreamConfig.STREAM_THREADS, "2");
        RewardStreamConfig c = new RewardStreamConfig(settings);
        Properties p = ScoringApp.streamsProperties(settings, c, Topics.create(settings), new SimpleMeterRegistry());
        assertThat(p.get(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG)).isEqualTo(ScoringApp.DEFAULT_SESSION_TIMEOUT_MS);
        StreamsConfig streams = new StreamsConfig(p);
        Map<String, Object> thread0 = streams.getMainConsumerConfigs("g", "c", 0);
        Map<String, Object> thread1 = streams.getMainConsumerConfigs("g", "c", 1);
        assertThat(thread0.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG)).as("one member per stream thread")
                .isEqualTo("scorer-a-0");
        assertThat(thread1.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG)).isEqualTo("scorer-a-1");
        assertThat(thread0.get(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG))
                .isEqualTo(ScoringApp.DEFAULT_SESSION_TIMEOUT_MS);

        settings.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "30000");
        settings.put(RewardStreamConfig.STATIC_MEMBERSHIP, "false");
        c = new RewardStreamConfig(settings);
        StreamsConfig dynamic = new StreamsConfig(ScoringApp.streamsProperties(settings, c, Topics.create(settings),
                new SimpleMeterRegistry()));
        assertThat(dynamic.getMainConsumerConfigs("g", "c", 0))
                .doesNotContainKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG)
                .containsEntry(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "30000");
    }

    @Test
    void aReferenceCheckpointIsOffByDefaultAndOneThatCannotBeLoadedIsRefusedByItsKey(@TempDir Path tmp) {
        assertThat(new RewardStreamConfig(Map.of()).referenceCheckpoint()).isEmpty();
        assertThat(new RewardStreamConfig(Map.of(RewardStreamConfig.REFERENCE_CHECKPOINT, " /ckpt/sft "))
                .referenceCheckpoint()).contains("/ckpt/sft");
        Map<String, Object> settings = new HashMap<>();
        settings.put("bootstrap.servers", "b:9092");
        settings.put("schema.registry.url", "mock://reference-test");
        settings.put(RewardStreamConfig.REFERENCE_CHECKPOINT, tmp.resolve("no-such-sft").toString());
        assertThatThrownBy(() -> ScoringApp.create(settings)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(RewardStreamConfig.REFERENCE_CHECKPOINT)
                .hasMessageContaining("no-such-sft").hasMessageContaining("cannot load the reference policy");
    }
}
