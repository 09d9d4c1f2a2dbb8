package io.streamrlhf.rewardstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.rewardstream.scoring.model.ModelRewardSource;
import io.streamrlhf.rewardstream.scoring.model.PublishedRewardModels;
import io.streamrlhf.rewardstream.scoring.model.RewardModelLoader;
import io.streamrlhf.rewardstream.scoring.model.RewardModelSwapper;
import io.streamrlhf.rewardstream.scoring.model.RewardModelSwapper.Outcome;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.signing.SigningKeys;
import io.streamrlhf.schemas.signing.VersionSigner;
import io.streamrlhf.schemas.signing.VersionSigningConfig;
import io.streamrlhf.schemas.topics.TopicSpec;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scorer's reward-model loading with the RM trainer's public key configured, against the embedded broker: a
 * scorer starting while forged versions far ahead are newest on {@code rm.versions}, between records no one can read,
 * loads the newest signed one; a
 * running scorer refuses forged versions (no signature, another key's, a {@code ..} URI) and keeps scoring with the
 * version it has, counting each refusal, and swaps to the trainer's next signed version.
 */
class SignedRewardModelsIT {

    private static final TransformerConfig SHAPE = new TransformerConfig(16, 16, 16, 1, 2);
    private static final long FAR_AHEAD = 1L << 62;

    @TempDir
    Path tmp;

    @Test
    void forgedRewardModelVersionsAreRefusedAndTheSignedOnesServe() throws Exception {
        ClusterFixture cluster = new ClusterFixture("signed-rm", 1);
        KeyPair trainerKeys = SigningKeys.generate();
        SigningKeys.writePair(trainerKeys, tmp.resolve("keys"));
        VersionSigner trainer = new VersionSigner(trainerKeys.getPrivate());
        VersionSigner intruder = new VersionSigner(SigningKeys.generate().getPrivate());
        Map<String, Object> settings = cluster.settings();
        settings.put(VersionSigningConfig.VERIFY_KEYS, tmp.resolve("keys").resolve(SigningKeys.PUBLIC_FILE).toString());

        Path v1 = save("v1", 1);
        Path theirs = save("theirs", 66);
        publishBytes(cluster, "not avro at all".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        publish(cluster, trainer.sign(version(1, v1.toUri().toString(), RewardModelLoader.manifestSha256(v1))));
        publishBytes(cluster, new byte[] {0, 0, 0, 0x7f, (byte) 0xff, 1, 2});  // a schema id never registered
        publish(cluster, version(FAR_AHEAD, theirs.toUri().toString(), RewardModelLoader.manifestSha256(theirs)));
        publish(cluster, intruder.sign(version(FAR_AHEAD + 1, theirs.toUri().toString(),
                RewardModelLoader.manifestSha256(theirs))));

        PublishedRewardModels published = new PublishedRewardModels(cluster.topics, settings, Duration.ofSeconds(30));
        assertThat(published.newest("rm-0").getVersion()).as("forgeries and unreadable records are passed over")
                .isEqualTo(1);
        ModelRewardSource source = (ModelRewardSource) RewardSources.create(
                RewardSpec.parse("rm:published;name=rm-0"), published);
        assertThat(source.version()).isEqualTo(1);

        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (RewardEnsemble ensemble = RewardEnsemble.builder().add(source).build()) {
            RewardModelSwapper swapper = new RewardModelSwapper(ensemble, published.chunks(), published.verifier(),
                    published.uris(), meters);
            RewardModelVersion unsigned = version(FAR_AHEAD, theirs.toUri().toString(),
                    RewardModelLoader.manifestSha256(theirs));
            assertThat(swapper.apply(unsigned)).isEqualTo(Outcome.FAILED);
            assertThat(swapper.apply(intruder.sign(RewardModelVersion.newBuilder(unsigned).setVersion(FAR_AHEAD + 1)
                    .build()))).isEqualTo(Outcome.FAILED);
            RewardModelVersion climbing = trainer.sign(version(5, tmp.toUri() + "keys/../theirs/",
                    RewardModelLoader.manifestSha256(theirs)));
            assertThat(swapper.apply(climbing)).isEqualTo(Outcome.FAILED);
            RewardModelVersion foreignTopic = trainer.sign(version(6, "kafka:attacker.chunks/rm/rm-0/6",
                    RewardModelLoader.manifestSha256(theirs)));
            assertThat(swapper.apply(foreignTopic)).isEqualTo(Outcome.FAILED);
            assertThat(source.version()).as("the old version keeps scoring").isEqualTo(1);
            assertThat(swapper.refusedCount("rm-0")).isEqualTo(4);
            assertThat(meters.get("rlhf.rm.version.refused").tag("model", "rm-0").counter().count()).isEqualTo(4.0);

            Path v2 = save("v2", 2);
            assertThat(swapper.apply(trainer.sign(version(2, v2.toUri().toString(),
                    RewardModelLoader.manifestSha256(v2))))).isEqualTo(Outcome.SWAPPED);
            assertThat(source.version()).isEqualTo(2);
        }
    }

    private Path save(String dir, long seed) {
        try (TransformerRewardModel rm = TransformerRewardModel.create(SHAPE, seed)) {
            return CheckpointStore.save(rm.toCheckpoint(Map.of("name", "rm-0"), null), tmp.resolve(dir));
        }
    }

    private static RewardModelVersion version(long version, String uri, String sha) {
        return RewardModelVersion.newBuilder().setName("rm-0").setVersion(version).setCheckpointUri(uri)
                .setSha256(sha).setSizeBytes(1L).setParentVersion(version > 1 ? version - 1 : null)
                .setCreatedAt(Instant.now()).build();
    }

    private static void publish(ClusterFixture cluster, RewardModelVersion v) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap);
        TopicSpec<String, RewardModelVersion> spec = cluster.topics.rmVersions();
        try (KafkaProducer<String, RewardModelVersion> producer = new KafkaProducer<>(p, spec.keySerializer(),
                spec.valueSerializer())) {
            producer.send(new ProducerRecord<>(spec.name(), v.getName(), v));
            producer.flush();
        }
    }

    private static void publishBytes(ClusterFixture cluster, byte[] value) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p,
                new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(cluster.topics.rmVersions().name(),
                    "rm-0".getBytes(java.nio.charset.StandardCharsets.UTF_8), value));
            producer.flush();
        }
    }
}
