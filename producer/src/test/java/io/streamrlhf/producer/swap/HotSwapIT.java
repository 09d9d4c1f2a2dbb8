package io.streamrlhf.producer.swap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.producer.ItCluster;
import io.streamrlhf.producer.TestPolicies;
import io.streamrlhf.producer.feed.PromptSender;
import io.streamrlhf.producer.feed.SyntheticPromptFeed;
import io.streamrlhf.producer.worker.PolicyWorker;
import io.streamrlhf.producer.worker.WorkerConfig;
import io.streamrlhf.producer.worker.WorkerPool;
import io.streamrlhf.schemas.avro.Generation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hot swap from policy.versions against the embedded broker and registry. */
class HotSwapIT {

    @TempDir
    Path dir;

    @Test
    void swapsForwardRefusesTamperedCheckpointsAndLateStartersBeginWithTheNewest() throws Exception {
        ItCluster cluster = new ItCluster("swap", 1);
        String policy = "swap-policy";
        Map<String, Object> settings = cluster.settings();
        settings.put(WorkerConfig.POLICY_NAME, policy);
        settings.put(WorkerConfig.WORKER_ID, "first");
        settings.put(WorkerConfig.BATCH_MAX_SIZE, 8);
        settings.put(WorkerConfig.MAX_NEW_TOKENS, 6);
        SyntheticPromptFeed feed = new SyntheticPromptFeed(3, 2);
        cluster.publish(TestPolicies.version(policy, 1, TestPolicies.save(TestPolicies.checkpoint(11), dir, "v1")));

        try (PromptSender sender = new PromptSender(cluster.topics(), cluster.settings());
             WorkerPool pool = new WorkerPool(settings, 1, Optional.empty(), new SimpleMeterRegistry())) {
            pool.start();
            PolicyWorker worker = pool.workers().get(0);
            sender.sendAll(feed.next(4));
            await().atMost(Duration.ofMinutes(2)).until(() -> worker.generationsCommitted() >= 8);
            assertThat(worker.currentVersion()).isEqualTo(1);

            // v2, a real new version: the next generations carry it.
            cluster.publish(TestPolicies.version(policy, 2, TestPolicies.save(TestPolicies.checkpoint(12), dir, "v2")));
            await().atMost(Duration.ofMinutes(1)).until(() -> pool.follower().newest().orElseThrow().version() == 2);
            sender.sendAll(feed.next(4));
            await().atMost(Duration.ofMinutes(2)).until(() -> worker.generationsCommitted() >= 16);
            assertThat(worker.currentVersion()).isEqualTo(2);

            // v3 with a changed weights file (manifest, and so the published sha, unchanged) and v4 published with
            // a sha256 that is not its manifest's: both refused, v2 keeps serving.
            Path v3 = TestPolicies.save(TestPolicies.checkpoint(13), dir, "v3");
            String v3sha = TestPolicies.manifestSha(v3);
            byte[] w = Files.readAllBytes(v3.resolve(CheckpointStore.WEIGHTS));
            w[w.length - 7] ^= 0x11;
            Files.write(v3.resolve(CheckpointStore.WEIGHTS), w);
            cluster.publish(TestPolicies.record(policy, 3, v3.toUri().toString(), v3sha));
            Path v4 = TestPolicies.save(TestPolicies.checkpoint(14), dir, "v4");
            cluster.publish(TestPolicies.record(policy, 4, v4.toUri().toString(), "ab".repeat(32)));
            await().atMost(Duration.ofMinutes(1)).until(() -> pool.follower().refusedCount() == 2);
            assertThat(pool.follower().refusedVersions()).containsExactlyInAnyOrder(3L, 4L);
            sender.sendAll(feed.next(4));
            await().atMost(Duration.ofMinutes(2)).until(() -> worker.generationsCommitted() >= 24);
            assertThat(worker.currentVersion()).isEqualTo(2);

            // v5 as chunks on the checkpoints topic, as the learner publishes without shared storage.
            Checkpoint c5 = TestPolicies.checkpoint(15);
            byte[] stream = CheckpointStore.toBytes(c5);
            int half = stream.length / 2;
            Map<String, byte[]> chunks = new LinkedHashMap<>();
            chunks.put(policy + "/5/0", java.util.Arrays.copyOfRange(stream, 0, half));
            chunks.put(policy + "/5/1", java.util.Arrays.copyOfRange(stream, half, stream.length));
            chunks.put(policy + "/5/count", "2".getBytes(StandardCharsets.UTF_8));
            cluster.sendBytes(cluster.topics().checkpoints().name(), chunks);
            String sha5 = TestPolicies.manifestSha(TestPolicies.save(c5, dir, "v5-local"));
            cluster.publish(TestPolicies.record(policy, 5, "kafka:" + cluster.topics().checkpoints().name() + "/"
                    + policy + "/5", sha5));
            await().atMost(Duration.ofMinutes(1)).until(() -> pool.follower().newest().orElseThrow().version() == 5);
            sender.sendAll(feed.next(4));
            await().atMost(Duration.ofMinutes(2)).until(() -> worker.generationsCommitted() >= 32);
            assertThat(worker.currentVersion()).isEqualTo(5);

            // Generations in log order: versions never go back, and each batch of 4 prompts carries its version.
            List<Generation> gens = cluster.readAll(cluster.topics().generations(), "read_committed").stream()
                    .sorted(Comparator.comparingLong(ConsumerRecord::offset)).map(ConsumerRecord::value).toList();
            assertThat(gens).hasSize(32);
            List<Long> versions = gens.stream().map(Generation::getPolicyVersion).toList();
            assertThat(versions).isSorted();
            assertThat(versions.subList(0, 8)).containsOnly(1L);
            assertThat(versions.subList(8, 24)).containsOnly(2L);
            assertThat(versions.subList(24, 32)).containsOnly(5L);
            // The two refusals were reported on the metrics topic too.
            assertThat(cluster.readAll(cluster.topics().metrics(), "read_committed").stream()
                    .filter(r -> r.value().getName().equals(PolicyFollower.REFUSED_METRIC))
                    .map(r -> r.value().getStep()).collect(Collectors.toSet())).containsExactlyInAnyOrder(3L, 4L);

            // A worker starting now begins with the newest valid version, 5, not with 1.
            Map<String, Object> late = new java.util.HashMap<>(settings);
            late.put(WorkerConfig.WORKER_ID, "late");
            late.put(WorkerConfig.GROUP_ID, "late-group");
            try (WorkerPool latePool = new WorkerPool(late, 1, Optional.empty(), new SimpleMeterRegistry())) {
                latePool.start();
                PolicyWorker lateWorker = latePool.workers().get(0);
                await().atMost(Duration.ofMinutes(1)).until(() -> lateWorker.currentVersion() >= 0);
                assertThat(lateWorker.currentVersion()).isEqualTo(5);
                assertThat(latePool.follower().refusedCount()).isZero();  // it never even tried the older ones
            }
        }
    }
}
