package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.learner.app.InitCheckpoints;
import io.streamrlhf.learner.app.PolicyPublisher;
import io.streamrlhf.learner.rm.online.RmVersionPublisher;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.producer.feed.PromptSender;
import io.streamrlhf.producer.feed.SyntheticPromptFeed;
import io.streamrlhf.producer.worker.PolicyWorker;
import io.streamrlhf.producer.worker.WorkerConfig;
import io.streamrlhf.producer.worker.WorkerPool;
import io.streamrlhf.rewardstream.app.RewardStreamConfig;
import io.streamrlhf.rewardstream.app.ScoringApp;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.rewardstream.scoring.model.ModelRewardSource;
import io.streamrlhf.rewardstream.scoring.model.RewardModelLoader;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.avro.ScoreSource;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.avro.SourceScore;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No shared filesystem: the learner and the reward-model trainer publish their versions as the services do
 * ({@link PolicyPublisher}, {@link RmVersionPublisher}, checkpoints in chunks on the checkpoints topic) from
 * directories that are deleted right after each publication; a worker and a scorer, each with its own fresh
 * directory and nothing else on disk, start from the published versions, swap to the next ones, and the scorer's
 * scores are those of the published reward model; the scorer's KL reference is an SFT policy published on Kafka
 * ({@code scoring.reference.checkpoint=kafka:...}).
 */
class NoSharedFilesystemIT {

    private static final String POLICY = "nfs-policy";
    private static final String RM = "rm-0";
    /** Tiny, so sampling is cheap on two busy cores. */
    private static final TransformerConfig POLICY_SHAPE = new TransformerConfig(Vocabulary.standard().size(), 32, 32,
            1, 2);
    private static final TransformerConfig RM_SHAPE = new TransformerConfig(Vocabulary.standard().size(), 64, 16, 1,
            2);

    private static EmbeddedCluster cluster;

    @TempDir
    Path tmp;

    @BeforeAll
    static void useTheSharedCluster() {
        ModelRuntime.init(1);
        cluster = SharedCluster.get();
    }

    @Test
    void aScorerAndAWorkerOnADataDirectoryThatWasNeverSharedGetTheirModelsThroughKafkaOnly() throws Exception {
        CatalogTopics catalog = CatalogTopics.on(cluster.bootstrapServers(), cluster.registryUrl())
                .prefix("nfs" + UUID.randomUUID().toString().substring(0, 8) + ".").partitions(1)
                .timeout(Duration.ofSeconds(30)).create();
        Topics topics = catalog.topics();
        Map<String, Object> settings = catalog.settings();
        Path learnerDir = tmp.resolve("learner");
        Path trainerDir = tmp.resolve("rm-trainer");
        Path scorerDir = Files.createDirectories(tmp.resolve("scorer"));
        Path workerDir = Files.createDirectories(tmp.resolve("worker"));

        Checkpoint policy1 = policy(11);
        Checkpoint rm1 = rewardModel(41, 1);
        Checkpoint policy2 = policy(12);
        Checkpoint rm2 = rewardModel(42, 2);
        try (PolicyPublisher policies = new PolicyPublisher(topics, settings, POLICY);
             RmVersionPublisher rms = new RmVersionPublisher(topics, settings)) {
            publishPolicy(policies, 1, policy1, learnerDir);
            publishRewardModel(rms, 1, rm1, trainerDir);
            assertThat(learnerDir).doesNotExist();
            assertThat(trainerDir).doesNotExist();
            // The KL reference: an SFT policy published once as policy 'sft' version 0, its directory gone after.
            Checkpoint sft = policy(10);
            String reference = InitCheckpoints.publish(CheckpointStore.save(sft, learnerDir.resolve("sft")), "sft",
                    topics, settings);
            deleteTree(learnerDir);

            Map<String, Object> scorerSettings = new HashMap<>(settings);
            scorerSettings.put(RewardStreamConfig.APPLICATION_ID, "nfs-" + UUID.randomUUID());
            scorerSettings.put(RewardStreamConfig.SOURCES, "rm:published;name=" + RM);
            scorerSettings.put(RewardStreamConfig.NORMALIZE, false);  // raw scores, comparable with the offline ones
            scorerSettings.put(RewardStreamConfig.BATCH_SIZE, 4);
            scorerSettings.put(RewardStreamConfig.BATCH_MAX_WAIT_MS, 100L);
            scorerSettings.put(RewardStreamConfig.STATE_DIR, scorerDir.resolve("streams").toString());
            scorerSettings.put(RewardStreamConfig.PUBLISHED_WAIT_MS, 30_000L);
            scorerSettings.put(RewardStreamConfig.REFERENCE_CHECKPOINT, reference);

            Map<String, Object> workerSettings = new HashMap<>(settings);
            workerSettings.put(WorkerConfig.POLICY_NAME, POLICY);
            workerSettings.put(WorkerConfig.WORKER_ID, "nfs-worker");
            workerSettings.put(WorkerConfig.BATCH_MAX_SIZE, 8);
            workerSettings.put(WorkerConfig.MAX_NEW_TOKENS, 6);

            SyntheticPromptFeed feed = new SyntheticPromptFeed(3, 2);
            try (ScoringApp scorer = ScoringApp.create(scorerSettings);
                 WorkerPool pool = new WorkerPool(workerSettings, 1, Optional.empty(), new SimpleMeterRegistry());
                 PromptSender sender = new PromptSender(topics, settings)) {
                scorer.start();
                assertThat(scorer.awaitReady(Duration.ofSeconds(60))).as("scorer running").isTrue();
                RewardSource rm = scorer.ensemble().source(RM);
                assertThat(rm.version()).as("the scorer starts from the published version").isEqualTo(1L);
                pool.start();
                PolicyWorker worker = pool.workers().get(0);

                sender.sendAll(feed.next(4));
                await().atMost(Duration.ofMinutes(2)).until(() -> worker.generationsCommitted() >= 8);
                assertThat(worker.currentVersion()).isEqualTo(1L);

                // The next versions, from directories that are gone again before anyone reads them.
                publishPolicy(policies, 2, policy2, learnerDir);
                publishRewardModel(rms, 2, rm2, trainerDir);
                await().atMost(Duration.ofMinutes(1)).until(() -> rm.version() == 2L
                        && pool.follower().newest().orElseThrow().version() == 2L);
                sender.sendAll(feed.next(4));
                await().atMost(Duration.ofMinutes(2)).until(() -> worker.generationsCommitted() >= 16);
                assertThat(worker.currentVersion()).isEqualTo(2L);

                List<ScoredGeneration> scored = readScored(topics, 16, Duration.ofSeconds(90));
                assertThat(scored).hasSize(16);
                assertThat(scored).extracting(s -> s.getGeneration().getPolicyVersion()).containsOnly(1L, 2L)
                        .contains(2L);
                assertThat(scored).extracting(ScoredGeneration::getReferenceModel).as("the reference from Kafka")
                        .containsOnly(sft.weightsId());
                // Every score is what the published version it names gives offline.
                try (ModelRewardSource offline1 = offline(rm1, 1); ModelRewardSource offline2 = offline(rm2, 2)) {
                    int byV2 = 0;
                    for (ScoredGeneration s : scored) {
                        SourceScore score = s.getScores().get(0);
                        assertThat(score.getModel().getName()).isEqualTo(RM);
                        ModelRewardSource expected = score.getModel().getVersion() == 2L ? offline2 : offline1;
                        byV2 += score.getModel().getVersion() == 2L ? 1 : 0;
                        assertThat(score.getRaw()).as(s.getGeneration().getGenerationId())
                                .isCloseTo(expected.score(List.of(ScoringInput.of(s.getGeneration())))[0],
                                        within(1e-4));
                    }
                    assertThat(byV2).as("generations scored by version 2").isGreaterThanOrEqualTo(8);
                }
            }
        }
        // Neither process wrote a checkpoint of its own: the scorer's directory holds Streams state and the copy of
        // the reference it fetched.
        assertThat(workerDir).isEmptyDirectory();
        try (Stream<Path> files = Files.walk(scorerDir)) {
            assertThat(files.filter(p -> p.getFileName().toString().equals(CheckpointStore.MANIFEST)))
                    .containsExactly(scorerDir.resolve("streams").resolve("reference").resolve("sft-v0")
                            .resolve(CheckpointStore.MANIFEST));
        }
    }

    /** Saves into the learner's directory, publishes in chunks as the learner does, then deletes the directory. */
    private static void publishPolicy(PolicyPublisher publisher, long version, Checkpoint checkpoint, Path learnerDir)
            throws IOException {
        Path saved = CheckpointStore.save(checkpoint, learnerDir.resolve("v" + version));
        PolicyVersion record = PolicyVersion.newBuilder().setName(POLICY).setVersion(version)
                .setCheckpointUri(publisher.chunkUri(version)).setSha256(RewardModelLoader.manifestSha256(saved))
                .setSizeBytes(0).setParentVersion(version > 1 ? version - 1 : null).setStep(version)
                .setMetrics(Map.of()).setCreatedAt(Instant.now()).build();
        assertThat(publisher.publish(record, CheckpointStore.toBytes(CheckpointStore.load(saved)))).isTrue();
        deleteTree(learnerDir);
    }

    /** The same for the reward-model trainer: a file: URI in the record, replaced by the chunks' kafka: URI. */
    private static void publishRewardModel(RmVersionPublisher publisher, long version, Checkpoint checkpoint,
                                           Path trainerDir) throws IOException {
        Path saved = CheckpointStore.save(checkpoint, trainerDir.resolve("v" + version).resolve("member-0"));
        RewardModelVersion record = RewardModelVersion.newBuilder().setName(RM).setVersion(version)
                .setCheckpointUri(saved.toUri().toString()).setSha256(RewardModelLoader.manifestSha256(saved))
                .setSizeBytes(0).setCreatedAt(Instant.now()).build();
        assertThat(publisher.publish(record, CheckpointStore.toBytes(CheckpointStore.load(saved)))).isTrue();
        deleteTree(trainerDir);
    }

    private static Checkpoint policy(long seed) {
        try (TransformerPolicy p = TransformerPolicy.create(POLICY_SHAPE, seed)) {
            return p.toCheckpoint(Map.of("seed", Long.toString(seed)), null);
        }
    }

    private static Checkpoint rewardModel(long seed, long version) {
        try (TransformerRewardModel m = TransformerRewardModel.create(RM_SHAPE, seed)) {
            return m.toCheckpoint(Map.of("name", RM, "version", Long.toString(version)), null);
        }
    }

    private static ModelRewardSource offline(Checkpoint checkpoint, long version) {
        return new ModelRewardSource(RM, ScoreSource.NEURAL_RM, RewardModelLoader.build(checkpoint), version, null);
    }

    private static List<ScoredGeneration> readScored(Topics topics, int n, Duration timeout) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<ScoredGeneration> out = new ArrayList<>();
        try (KafkaConsumer<String, ScoredGeneration> consumer = new KafkaConsumer<>(props,
                topics.scored().keyDeserializer(), topics.scored().valueDeserializer())) {
            TopicPartition tp = new TopicPartition(topics.scored().name(), 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (out.size() < n && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, ScoredGeneration> r : consumer.poll(Duration.ofMillis(200))) {
                    out.add(r.value());
                }
            }
        }
        return out;
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
