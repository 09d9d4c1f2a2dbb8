package io.streamrlhf.rewardstream.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.rewardstream.Fixtures;
import io.streamrlhf.rewardstream.scoring.NormalizationSettings;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.rewardstream.scoring.model.RewardModelLoader;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.topics.TopicSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RM hot swap: a reward model scoring in the running stream is replaced by a version published on rm.versions; the
 * records scored before keep version 1 and its scores, later records get version 2 and its scores, and a published
 * version whose sha256 does not match its checkpoint is refused.
 */
class RewardModelHotSwapIT {
    private static final TransformerConfig SHAPE = new TransformerConfig(16, 16, 16, 1, 2);

    @TempDir
    Path tmp;

    @Test
    void publishedVersionChangesTheScoresOfLaterRecordsOnly() throws Exception {
        Path v1 = save(1, 11L);
        Path v2 = save(2, 22L);
        List<Generation> before = batch("a", 6);
        List<Generation> after = batch("b", 6);
        double[] expectedV1 = expected(v1, before);
        double[] expectedV2 = expected(v2, after);
        assertThat(expectedV2[0]).as("the two versions score differently").isNotCloseTo(
                expected(v1, after)[0], within(1e-4));

        ClusterFixture cluster = new ClusterFixture("swap", 1);
        RewardSource rm = RewardSources.create(RewardSpec.parse("rm:" + v1 + ";name=rm-0"));
        try (ScoringApp app = startedApp(streamSettings(cluster, "swap"), rm);
             KafkaConsumer<String, ScoredGeneration> reader = scoredReader(cluster)) {
            cluster.produce(before);
            List<ConsumerRecord<String, ScoredGeneration>> scored = new ArrayList<>();
            ClusterFixture.pollUntil(reader, scored, before.size(), Duration.ofSeconds(60));
            assertThat(scored).hasSize(before.size());

            // A version whose digest does not match its files is refused; version 1 keeps scoring.
            publish(cluster, version(3, v2, "0".repeat(64)));
            publish(cluster, version(2, v2, RewardModelLoader.manifestSha256(v2)));
            await().atMost(Duration.ofSeconds(30)).until(() -> rm.version() == 2);

            cluster.produce(after);
            ClusterFixture.pollUntil(reader, scored, before.size() + after.size(), Duration.ofSeconds(60));
            ClusterFixture.drain(reader, scored, Duration.ofSeconds(1));
            assertThat(scored).hasSize(before.size() + after.size());
            for (int i = 0; i < before.size(); i++) {
                ScoredGeneration s = scored.get(i).value();
                assertThat(s.getGeneration().getGenerationId()).isEqualTo(before.get(i).getGenerationId());
                assertThat(s.getScores().get(0).getModel().getVersion()).isEqualTo(1L);
                assertThat(s.getScores().get(0).getRaw()).isCloseTo(expectedV1[i], within(1e-5));
            }
            for (int i = 0; i < after.size(); i++) {
                ScoredGeneration s = scored.get(before.size() + i).value();
                assertThat(s.getGeneration().getGenerationId()).isEqualTo(after.get(i).getGenerationId());
                assertThat(s.getScores().get(0).getModel().getName()).isEqualTo("rm-0");
                assertThat(s.getScores().get(0).getModel().getVersion()).isEqualTo(2L);
                assertThat(s.getScores().get(0).getRaw()).isCloseTo(expectedV2[i], within(1e-5));
            }
            assertThat(rm.version()).as("the bad version 3 was never loaded").isEqualTo(2L);
        }
    }

    @Test
    void aScoredBatchCommitsAtOnceWhateverTheCommitInterval() throws Exception {
        Path v1 = save(1, 11L);
        List<Generation> gens = batch("c", 6);
        ClusterFixture cluster = new ClusterFixture("commit", 1);
        Map<String, Object> settings = streamSettings(cluster, "commit");
        // Far longer than the wait below: only the batch's own commit request can make its scores visible in time.
        settings.put("commit.interval.ms", 600_000L);
        settings.put("producer.transaction.timeout.ms", 700_000);  // Streams wants it above the interval
        try (ScoringApp app = startedApp(settings, RewardSources.create(RewardSpec.parse("rm:" + v1 + ";name=rm-0")));
             KafkaConsumer<String, ScoredGeneration> reader = scoredReader(cluster)) {
            cluster.produce(gens);
            List<ConsumerRecord<String, ScoredGeneration>> scored = new ArrayList<>();
            ClusterFixture.pollUntil(reader, scored, gens.size(), Duration.ofSeconds(60));
            assertThat(scored).extracting(r -> r.value().getGeneration().getGenerationId())
                    .containsExactlyElementsOf(gens.stream().map(Generation::getGenerationId).toList());
        }
    }

    /** The stream's settings on the cluster: batches of 3, 100 ms wait, state under the test's directory. */
    private Map<String, Object> streamSettings(ClusterFixture cluster, String name) {
        Map<String, Object> settings = cluster.settings();
        settings.put(RewardStreamConfig.APPLICATION_ID, name + "-" + UUID.randomUUID());
        settings.put(RewardStreamConfig.BATCH_SIZE, 3);
        settings.put(RewardStreamConfig.BATCH_MAX_WAIT_MS, 100L);
        settings.put(RewardStreamConfig.STATE_DIR, tmp.resolve("state").toString());
        return settings;
    }

    /** A started, ready app scoring with {@code rm} alone, without normalisation. */
    private static ScoringApp startedApp(Map<String, Object> settings, RewardSource rm) throws InterruptedException {
        RewardEnsemble ensemble = RewardEnsemble.builder().add(rm).normalization(NormalizationSettings.OFF).build();
        ScoringApp app = ScoringApp.create(settings, ensemble, new SimpleMeterRegistry());
        try {
            app.start();
            assertThat(app.awaitReady(Duration.ofSeconds(60))).isTrue();
            return app;
        } catch (RuntimeException | Error | InterruptedException e) {
            app.close();
            throw e;
        }
    }

    private static KafkaConsumer<String, ScoredGeneration> scoredReader(ClusterFixture cluster) {
        return cluster.committedReader(cluster.topics.scored().name(), cluster.topics.scored().keyDeserializer(),
                cluster.topics.scored().valueDeserializer());
    }

    private Path save(int version, long seed) {
        try (TransformerRewardModel model = TransformerRewardModel.create(SHAPE, seed)) {
            return CheckpointStore.save(model.toCheckpoint(Map.of("name", "rm-0", "version", Integer.toString(version)),
                    null), tmp.resolve("rm-0-v" + version));
        }
    }

    private static double[] expected(Path dir, List<Generation> gens) {
        try (RewardSource source = RewardSources.create(RewardSpec.parse("rm:" + dir))) {
            return source.score(gens.stream().map(ScoringInput::of).toList());
        }
    }

    private static List<Generation> batch(String tag, int n) {
        List<Generation> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(Fixtures.generation(tag + "-" + i, "p-" + tag + i, "word ".repeat(i + 1) + tag));
        }
        return out;
    }

    private static RewardModelVersion version(long version, Path dir, String sha) {
        return RewardModelVersion.newBuilder().setName("rm-0").setVersion(version)
                .setCheckpointUri(dir.toUri().toString()).setSha256(sha).setSizeBytes(1L)
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
}
