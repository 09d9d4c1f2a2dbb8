package io.streamrlhf.learner.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.learner.rm.online.RmVersionPublisher;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.signing.SigningKeys;
import io.streamrlhf.schemas.signing.VersionSigner;
import io.streamrlhf.schemas.signing.VersionSigningConfig;
import io.streamrlhf.schemas.signing.VersionVerifier;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The learner's and the RM trainer's publishers with a signing key, against the embedded broker: what they publish
 * is signed, and after a forged version far ahead (no signature, or another key's) lands on the topic, a restarted
 * publisher still takes its own newest signed version as the newest and publishes the next one.
 */
class SignedPublicationIT {

    private static final long FAR_AHEAD = 1L << 62;
    private static final String SHA = "ab".repeat(32);

    @TempDir
    Path dir;

    private Map<String, Object> settings() throws Exception {
        CatalogTopics catalog = CatalogTopics.on(SharedCluster.get().bootstrapServers(),
                        SharedCluster.get().registryUrl())
                .prefix("signed-" + UUID.randomUUID().toString().substring(0, 8) + ".").partitions(1)
                .timeout(Duration.ofSeconds(60)).create();
        Map<String, Object> settings = catalog.settings();
        SigningKeys.writePair(SigningKeys.generate(), dir);
        settings.put(VersionSigningConfig.SIGN_KEY, dir.resolve(SigningKeys.PRIVATE_FILE).toString());
        return settings;
    }

    @Test
    void aForgedPolicyVersionFarAheadDoesNotStopTheLearnersNextPublication() throws Exception {
        Map<String, Object> settings = settings();
        Topics topics = Topics.create(settings);
        VersionVerifier learnerKey = new VersionVerifier(List.of(
                SigningKeys.readPublic(dir.resolve(SigningKeys.PUBLIC_FILE))));
        try (PolicyPublisher publisher = new PolicyPublisher(topics, settings, "chat")) {
            assertThat(publisher.publish(PolicyPublisher.record("chat", 1, 0, 10, "file:/ckpt/chat/v1/", SHA, 1,
                    Map.of()), null)).isTrue();
        }
        TopicSpec<String, PolicyVersion> spec = topics.policyVersions();
        VersionSigner intruder = new VersionSigner(SigningKeys.generate().getPrivate());
        PolicyVersion forged = PolicyPublisher.record("chat", FAR_AHEAD, 1, 0, "file:/ckpt/chat/theirs/", SHA, 1,
                Map.of());
        send(settings, spec, "chat", forged);
        send(settings, spec, "chat", intruder.sign(PolicyVersion.newBuilder(forged).setVersion(FAR_AHEAD + 1).build()));

        try (PolicyPublisher restarted = new PolicyPublisher(topics, settings, "chat")) {
            assertThat(restarted.lastPublished()).as("forgeries are not the newest version").isEqualTo(1);
            assertThat(restarted.publish(PolicyPublisher.record("chat", 2, 1, 20, "file:/ckpt/chat/v2/", SHA, 1,
                    Map.of()), null)).isTrue();
        }
        List<PolicyVersion> all = readAll(settings, spec);
        assertThat(all).extracting(PolicyVersion::getVersion).containsExactly(1L, FAR_AHEAD, FAR_AHEAD + 1, 2L);
        assertThat(all).filteredOn(v -> v.getVersion() < 3)
                .allSatisfy(v -> assertThat(learnerKey.refusal(v)).as("version " + v.getVersion()).isEmpty());
        assertThat(all).filteredOn(v -> v.getVersion() >= FAR_AHEAD)
                .allSatisfy(v -> assertThat(learnerKey.refusal(v)).isPresent());

        // Without keys a publisher cannot tell the forgery from its own: the hole signing closes.
        Map<String, Object> unsigned = new HashMap<>(settings);
        unsigned.remove(VersionSigningConfig.SIGN_KEY);
        try (PolicyPublisher blind = new PolicyPublisher(topics, unsigned, "chat")) {
            assertThat(blind.lastPublished()).isEqualTo(FAR_AHEAD + 1);
        }
    }

    @Test
    void aForgedRewardModelVersionFarAheadDoesNotStopTheTrainersNextPublication() throws Exception {
        Map<String, Object> settings = settings();
        Topics topics = Topics.create(settings);
        try (RmVersionPublisher publisher = new RmVersionPublisher(topics, settings)) {
            assertThat(publisher.publish(rm(1))).isTrue();
        }
        send(settings, topics.rmVersions(), "rm-0", rm(FAR_AHEAD));
        try (RmVersionPublisher restarted = new RmVersionPublisher(topics, settings)) {
            assertThat(restarted.lastPublished("rm-0")).isEqualTo(1);
            assertThat(restarted.publish(rm(2))).isTrue();
        }
        VersionVerifier trainerKey = new VersionSigningConfig(settings).publisherVerifier();
        assertThat(readAll(settings, topics.rmVersions()))
                .extracting(RewardModelVersion::getVersion, v -> trainerKey.refusal(v).isEmpty())
                .containsExactly(org.assertj.core.groups.Tuple.tuple(1L, true),
                        org.assertj.core.groups.Tuple.tuple(FAR_AHEAD, false),
                        org.assertj.core.groups.Tuple.tuple(2L, true));
    }

    private static RewardModelVersion rm(long version) {
        return RewardModelVersion.newBuilder().setName("rm-0").setVersion(version).setCheckpointUri("file:/ckpt/rm/")
                .setSha256(SHA).setSizeBytes(1).setParentVersion(version > 1 ? version - 1 : null)
                .setCreatedAt(Instant.now()).build();
    }

    private static <V> void send(Map<String, Object> settings, TopicSpec<String, V> spec, String key, V value)
            throws Exception {
        Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                settings.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG), ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, V> p = new KafkaProducer<>(props, spec.keySerializer(), spec.valueSerializer())) {
            p.send(new ProducerRecord<>(spec.name(), key, value)).get();
        }
    }

    private static <V> List<V> readAll(Map<String, Object> settings, TopicSpec<String, V> spec) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG));
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<V> out = new ArrayList<>();
        try (KafkaConsumer<String, V> c = new KafkaConsumer<>(props, spec.keyDeserializer(), spec.valueDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(spec.name(), Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                for (ConsumerRecord<String, V> r : c.poll(Duration.ofMillis(200))) {
                    out.add(r.value());
                }
            }
        }
        return out;
    }
}
