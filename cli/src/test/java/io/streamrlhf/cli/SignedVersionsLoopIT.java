package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.embedded.testing.SharedCluster;
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
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.rewardstream.scoring.model.PublishedRewardModels;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.signing.SigningKeys;
import io.streamrlhf.schemas.signing.VersionSigningConfig;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signed versions through the services, on an embedded cluster: the learner's and the RM trainer's publishers sign
 * with their keys, a worker and a scorer trust only those keys. An intruder who can write the topics publishes a
 * policy and a reward model version 2^62 with valid chunks and sha256 but no signature: the worker and the scorer
 * refuse them and keep generating and scoring with version 1; the learner and the trainer, restarted, still take
 * version 1 as their newest and publish version 2, which the worker and the scorer swap to.
 */
class SignedVersionsLoopIT {

    private static final String POLICY = "signed-policy";
    private static final String RM = "rm-0";
    private static final long FAR_AHEAD = 1L << 62;
    private static final TransformerConfig POLICY_SHAPE = new TransformerConfig(Vocabulary.standard().size(), 32, 32,
            1, 2);
    private static final TransformerConfig RM_SHAPE = new TransformerConfig(Vocabulary.standard().size(), 32, 16, 1,
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
    void forgedVersionsFarAheadAreRefusedByWorkerAndScorerAndThePublishersCarryOn() throws Exception {
        CatalogTopics catalog = CatalogTopics.on(cluster.bootstrapServers(), cluster.registryUrl())
                .prefix("signed" + UUID.randomUUID().toString().substring(0, 8) + ".").partitions(1)
                .timeout(Duration.ofSeconds(30)).create();
        Topics topics = catalog.topics();
        Map<String, Object> plain = catalog.settings();
        SigningKeys.writePair(SigningKeys.generate(), tmp.resolve("learner"));
        SigningKeys.writePair(SigningKeys.generate(), tmp.resolve("rm-trainer"));
        Map<String, Object> learner = with(plain, VersionSigningConfig.SIGN_KEY,
                tmp.resolve("learner").resolve(SigningKeys.PRIVATE_FILE));
        Map<String, Object> trainer = with(plain, VersionSigningConfig.SIGN_KEY,
                tmp.resolve("rm-trainer").resolve(SigningKeys.PRIVATE_FILE));

        try (PolicyPublisher policies = new PolicyPublisher(topics, learner, POLICY);
             RmVersionPublisher rms = new RmVersionPublisher(topics, trainer)) {
            publishPolicy(policies, 1, 11);
            publishRewardModel(rms, 1, 41);
        }

        Map<String, Object> workerSettings = with(plain, VersionSigningConfig.VERIFY_KEYS,
                tmp.resolve("learner").resolve(SigningKeys.PUBLIC_FILE));
        workerSettings.put(WorkerConfig.POLICY_NAME, POLICY);
        workerSettings.put(WorkerConfig.WORKER_ID, "signed-worker");
        workerSettings.put(WorkerConfig.BATCH_MAX_SIZE, 8);
        workerSettings.put(WorkerConfig.MAX_NEW_TOKENS, 6);
        Map<String, Object> scorerSettings = with(plain, VersionSigningConfig.VERIFY_KEYS,
                tmp.resolve("rm-trainer").resolve(SigningKeys.PUBLIC_FILE));
        scorerSettings.put(RewardStreamConfig.APPLICATION_ID, "signed-" + UUID.randomUUID());
        scorerSettings.put(RewardStreamConfig.BATCH_SIZE, 4);
        scorerSettings.put(RewardStreamConfig.BATCH_MAX_WAIT_MS, 100L);
        scorerSettings.put(RewardStreamConfig.STATE_DIR, tmp.resolve("streams").toString());

        SimpleMeterRegistry scorerMeters = new SimpleMeterRegistry();
        PublishedRewardModels published = new PublishedRewardModels(topics, scorerSettings, Duration.ofSeconds(30));
        RewardEnsemble ensemble = RewardEnsemble.builder()
                .add(RewardSources.create(RewardSpec.parse("rm:published;name=" + RM), published)).build();
        SyntheticPromptFeed feed = new SyntheticPromptFeed(3, 2);
        try (ScoringApp scorer = ScoringApp.create(scorerSettings, ensemble, scorerMeters);
             WorkerPool pool = new WorkerPool(workerSettings, 1, Optional.empty(), new SimpleMeterRegistry());
             PromptSender sender = new PromptSender(topics, plain)) {
            scorer.start();
            assertThat(scorer.awaitReady(Duration.ofSeconds(60))).isTrue();
            RewardSource rm = scorer.ensemble().source(RM);
            assertThat(rm.version()).isEqualTo(1L);
            pool.start();
            PolicyWorker worker = pool.workers().get(0);
            sender.sendAll(feed.next(2));
            await().atMost(Duration.ofMinutes(2)).until(() -> worker.generationsCommitted() >= 4);
            assertThat(worker.currentVersion()).isEqualTo(1L);

            // The intruder: its own weights, real chunks and sha256, no signature, version 2^62.
            try (PolicyPublisher intruder = new PolicyPublisher(topics, plain, POLICY, "intruder");
                 RmVersionPublisher intruderRms = new RmVersionPublisher(topics, plain)) {
                publishPolicy(intruder, FAR_AHEAD, 66);
                publishRewardModel(intruderRms, FAR_AHEAD, 67);
            }
            await().atMost(Duration.ofMinutes(1)).until(() ->
                    pool.follower().refusedVersions().contains(FAR_AHEAD) && refused(scorerMeters) == 1.0);
            sender.sendAll(feed.next(2));
            await().atMost(Duration.ofMinutes(2)).until(() -> worker.generationsCommitted() >= 8);
            assertThat(worker.currentVersion()).as("the worker keeps generating with version 1").isEqualTo(1L);
            assertThat(rm.version()).as("the scorer keeps scoring with version 1").isEqualTo(1L);

            // The learner and the trainer restart and publish their next versions.
            try (PolicyPublisher policies = new PolicyPublisher(topics, learner, POLICY);
                 RmVersionPublisher rms = new RmVersionPublisher(topics, trainer)) {
                assertThat(policies.lastPublished()).isEqualTo(1L);
                assertThat(rms.lastPublished(RM)).isEqualTo(1L);
                publishPolicy(policies, 2, 12);
                publishRewardModel(rms, 2, 42);
            }
            await().atMost(Duration.ofMinutes(1)).until(() -> rm.version() == 2L
                    && pool.follower().newest().orElseThrow().version() == 2L);
            sender.sendAll(feed.next(2));
            await().atMost(Duration.ofMinutes(2)).until(() -> worker.currentVersion() == 2L);
        }
    }

    private static double refused(SimpleMeterRegistry meters) {
        Counter c = meters.find("rlhf.rm.version.refused").tag("model", RM).counter();
        return c == null ? 0 : c.count();
    }

    private static Map<String, Object> with(Map<String, Object> base, String key, Object value) {
        Map<String, Object> m = new HashMap<>(base);
        m.put(key, value.toString());
        return m;
    }

    /** Publishes a fresh policy as the learner does: its chunks on the checkpoints topic and a kafka: URI. */
    private static void publishPolicy(PolicyPublisher publisher, long version, long seed) {
        Checkpoint checkpoint;
        try (TransformerPolicy p = TransformerPolicy.create(POLICY_SHAPE, seed)) {
            checkpoint = p.toCheckpoint(Map.of("seed", Long.toString(seed)), null);
        }
        byte[] bytes = CheckpointStore.toBytes(checkpoint);
        PolicyVersion record = PolicyVersion.newBuilder().setName(POLICY).setVersion(version)
                .setCheckpointUri(publisher.chunkUri(version))
                .setSha256(CheckpointStore.sha256(CheckpointStore.manifestOf(bytes))).setSizeBytes(bytes.length)
                .setParentVersion(version == 2 ? 1L : null).setStep(version).setMetrics(Map.of())
                .setCreatedAt(Instant.now()).build();
        assertThat(publisher.publish(record, bytes)).isTrue();
    }

    /** Publishes a fresh reward model as the trainer does, in chunks. */
    private static void publishRewardModel(RmVersionPublisher publisher, long version, long seed) {
        Checkpoint checkpoint;
        try (TransformerRewardModel m = TransformerRewardModel.create(RM_SHAPE, seed)) {
            checkpoint = m.toCheckpoint(Map.of("name", RM), null);
        }
        byte[] bytes = CheckpointStore.toBytes(checkpoint);
        RewardModelVersion record = RewardModelVersion.newBuilder().setName(RM).setVersion(version)
                .setCheckpointUri("file:/nowhere/").setSha256(CheckpointStore.sha256(CheckpointStore.manifestOf(bytes)))
                .setSizeBytes(bytes.length).setParentVersion(version == 2 ? 1L : null).setCreatedAt(Instant.now())
                .build();
        assertThat(publisher.publish(record, bytes)).isTrue();
    }
}
