package io.streamrlhf.rewardstream.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.rewardstream.Fixtures;
import io.streamrlhf.rewardstream.scoring.model.ReferencePolicy;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.chunks.CheckpointChunkWriter;
import io.streamrlhf.schemas.chunks.ChunkIndex;
import io.streamrlhf.schemas.signing.SigningKeys;
import io.streamrlhf.schemas.signing.VersionSigner;
import io.streamrlhf.schemas.signing.VersionSigningConfig;
import io.streamrlhf.schemas.topics.TopicSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scorer's KL reference named as a policy version published on Kafka ({@code scoring.reference.checkpoint =
 * kafka:<checkpoints>/sft/0}), against the embedded broker and registry, with version signatures verified: a scorer
 * whose state directory shares nothing with the publisher's disk scores with the log-probs and weights id of the local
 * SFT checkpoint; a missing, unsigned, wrongly signed or changed reference is refused at start, naming the URI.
 */
class KafkaReferenceIT {

    @TempDir
    Path tmp;

    @Test
    void aScorerWithNothingButKafkaScoresWithThePublishedReferencesLogProbs() throws Exception {
        ClusterFixture cluster = new ClusterFixture("kafka-ref", 1);
        VersionSigner learner = trustedSigner();
        Path sft = tmp.resolve("learner-disk").resolve("sft");
        Fixtures.savePolicy(sft, 3);
        String uri = publish(cluster, learner, "sft", 0, sft, null);

        Map<String, Object> settings = scorerSettings(cluster, uri);
        List<Generation> gens = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            gens.add(Fixtures.generation("g-" + i, "p-" + i, "word ".repeat(i + 1) + "end"));
        }
        float[][] expected;
        String expectedId;
        try (ReferencePolicy local = ReferencePolicy.load(sft)) {
            expected = local.logprobs(gens);
            expectedId = local.id();
        }
        List<ConsumerRecord<String, ScoredGeneration>> scored = new ArrayList<>();
        try (ScoringApp app = ScoringApp.create(settings, new SimpleMeterRegistry());
             KafkaConsumer<String, ScoredGeneration> reader = cluster.committedReader(cluster.topics.scored().name(),
                     cluster.topics.scored().keyDeserializer(), cluster.topics.scored().valueDeserializer())) {
            app.start();
            assertThat(app.awaitReady(Duration.ofSeconds(60))).isTrue();
            cluster.produce(gens);
            ClusterFixture.pollUntil(reader, scored, gens.size(), Duration.ofSeconds(60));
        }
        assertThat(scored).hasSize(gens.size());
        for (ConsumerRecord<String, ScoredGeneration> r : scored) {
            ScoredGeneration s = r.value();
            int i = Integer.parseInt(s.getGeneration().getGenerationId().substring(2));
            assertThat(s.getReferenceModel()).as("the published reference is the local SFT's weights")
                    .isEqualTo(expectedId);
            float[] got = new float[s.getReferenceLogprobs().size()];
            for (int t = 0; t < got.length; t++) {
                got[t] = s.getReferenceLogprobs().get(t);
            }
            assertThat(got).as("generation %d", i).hasSize(expected[i].length).containsExactly(expected[i],
                    within(1e-6f));
        }
        Path copy = tmp.resolve("scorer-disk").resolve("state").resolve("reference").resolve("sft-v0");
        assertThat(copy.resolve(CheckpointStore.MANIFEST)).as("fetched once into the scorer's state directory")
                .exists();
    }

    @Test
    void aMissingUnsignedForgedOrChangedReferenceIsRefusedNamingTheUri() throws Exception {
        ClusterFixture cluster = new ClusterFixture("kafka-ref-refused", 1);
        VersionSigner learner = trustedSigner();
        VersionSigner intruder = new VersionSigner(SigningKeys.generate().getPrivate());
        Path sft = tmp.resolve("learner-disk").resolve("sft");
        Fixtures.savePolicy(sft, 3);
        String published = publish(cluster, learner, "sft", 0, sft, null);
        String missing = published.substring(0, published.lastIndexOf('/')) + "/7";
        assertThatThrownBy(() -> ScoringApp.create(scorerSettings(cluster, missing)))
                .isInstanceOf(ConfigException.class).hasMessageContaining(RewardStreamConfig.REFERENCE_CHECKPOINT)
                .hasMessageContaining(missing).hasMessageContaining("no record of policy 'sft' version 7");

        Path other = tmp.resolve("intruder-disk").resolve("sft");
        Fixtures.savePolicy(other, 4);
        String unsigned = publish(cluster, null, "sft", 1, other, null);
        assertThatThrownBy(() -> ScoringApp.create(scorerSettings(cluster, unsigned)))
                .isInstanceOf(ConfigException.class).hasMessageContaining(unsigned).hasMessageContaining("refused");
        String forged = publish(cluster, intruder, "sft", 2, other, null);
        assertThatThrownBy(() -> ScoringApp.create(scorerSettings(cluster, forged)))
                .isInstanceOf(ConfigException.class).hasMessageContaining(forged).hasMessageContaining("refused");
        // signed by the trusted key, but over a sha256 that is not the chunks' manifest's
        String changed = publish(cluster, learner, "sft", 3, other, "00".repeat(32));
        assertThatThrownBy(() -> ScoringApp.create(scorerSettings(cluster, changed)))
                .isInstanceOf(ConfigException.class).hasMessageContaining(changed)
                .hasMessageContaining("the published sha256 is " + "00".repeat(32));
        assertThat(tmp.resolve("scorer-disk").resolve("state").resolve("reference").resolve("sft-v3"))
                .as("nothing is written for a refused reference").doesNotExist();
    }

    /** A signer whose public key the scorer trusts ({@code versions.verify.keys}). */
    private VersionSigner trustedSigner() throws java.io.IOException {
        KeyPair keys = SigningKeys.generate();
        SigningKeys.writePair(keys, tmp.resolve("keys"));
        return new VersionSigner(keys.getPrivate());
    }

    private Map<String, Object> scorerSettings(ClusterFixture cluster, String reference) {
        Map<String, Object> settings = cluster.settings();
        settings.put(RewardStreamConfig.APPLICATION_ID, "kafka-ref-" + UUID.randomUUID());
        settings.put(RewardStreamConfig.SOURCES, "rule:length");
        settings.put(RewardStreamConfig.BATCH_SIZE, 5);
        settings.put(RewardStreamConfig.BATCH_MAX_WAIT_MS, 100L);
        settings.put(RewardStreamConfig.STATE_DIR, tmp.resolve("scorer-disk").resolve("state").toString());
        settings.put(RewardStreamConfig.PUBLISHED_WAIT_MS, 30_000L);
        settings.put(RewardStreamConfig.REFERENCE_CHECKPOINT, reference);
        settings.put(VersionSigningConfig.VERIFY_KEYS,
                tmp.resolve("keys").resolve(SigningKeys.PUBLIC_FILE).toString());
        return settings;
    }

    /**
     * Publishes the checkpoint in {@code dir} as policy {@code name} version {@code version}, as a learner does: its
     * chunks on the checkpoints topic, then its record (signed by {@code signer} when given, with {@code sha256} or the
     * manifest's), and returns its {@code kafka:} URI.
     */
    private static String publish(ClusterFixture cluster, VersionSigner signer, String name, long version, Path dir,
                                  String sha256) throws Exception {
        Map<String, Object> client = new HashMap<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap));
        String uri;
        ChunkIndex index;
        try (CheckpointChunkWriter chunks = new CheckpointChunkWriter(cluster.topics, client)) {
            index = chunks.write(name, version, CheckpointStore.toBytes(CheckpointStore.load(dir)));
            uri = chunks.uri(name, version).toString();
        }
        PolicyVersion record = PolicyVersion.newBuilder().setName(name).setVersion(version).setCheckpointUri(uri)
                .setSha256(sha256 != null ? sha256
                        : CheckpointStore.sha256(Files.readAllBytes(dir.resolve(CheckpointStore.MANIFEST))))
                .setSizeBytes(0L).setParentVersion(null).setStep(0L).setMetrics(Map.of())
                .setCreatedAt(Instant.now()).setChunksPartition(index.partition())
                .setChunksFirstOffset(index.firstOffset()).setChunksLastOffset(index.lastOffset()).build();
        if (signer != null) {
            record = signer.sign(record);
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap);
        TopicSpec<String, PolicyVersion> spec = cluster.topics.policyVersions();
        try (KafkaProducer<String, PolicyVersion> producer = new KafkaProducer<>(p, spec.keySerializer(),
                spec.valueSerializer())) {
            producer.send(new ProducerRecord<>(spec.name(), name, record)).get();
        }
        return uri;
    }
}
