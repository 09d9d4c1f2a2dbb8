package io.streamrlhf.producer.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.producer.ItCluster;
import io.streamrlhf.producer.TestPolicies;
import io.streamrlhf.producer.feed.PromptSender;
import io.streamrlhf.producer.feed.SyntheticPromptFeed;
import io.streamrlhf.producer.swap.PolicyFollower;
import io.streamrlhf.schemas.avro.Generation;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.GroupState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exactly-once generation against the embedded broker and registry. */
class PolicyWorkerIT {

    @TempDir
    Path dir;

    private Map<String, Object> workerSettings(ItCluster cluster, String policy, String workerId) {
        Map<String, Object> s = cluster.settings();
        s.put(WorkerConfig.POLICY_NAME, policy);
        s.put(WorkerConfig.WORKER_ID, workerId);
        s.put(WorkerConfig.BATCH_MAX_SIZE, 8);
        s.put(WorkerConfig.BATCH_MAX_WAIT_MS, 100L);
        s.put(WorkerConfig.MAX_NEW_TOKENS, 8);
        s.put(WorkerConfig.POLICY_WAIT_MS, 60_000L);
        return s;
    }

    @Test
    void nPromptsGiveExactlyNTimesKGenerationsAcrossTwoWorkers() throws Exception {
        ItCluster cluster = new ItCluster("worker-n", 3);
        cluster.publish(TestPolicies.version("chat", 0, TestPolicies.save(TestPolicies.checkpoint(1), dir, "v0")));
        int n = 15;
        int k = 3;
        try (PromptSender sender = new PromptSender(cluster.topics(), cluster.settings())) {
            assertThat(sender.sendAll(new SyntheticPromptFeed(5, k).next(n))).isEqualTo(n);
        }
        try (WorkerPool pool = new WorkerPool(workerSettings(cluster, "chat", "w"), 2, Optional.empty(),
                new SimpleMeterRegistry())) {
            pool.start();
            await().atMost(Duration.ofMinutes(3)).until(() ->
                    pool.workers().stream().mapToLong(PolicyWorker::generationsCommitted).sum() >= (long) n * k);
            Thread.sleep(1000);  // anything extra would show up now
            List<Generation> gens = cluster.readAll(cluster.topics().generations(), "read_committed").stream()
                    .map(ConsumerRecord::value).toList();
            assertThat(gens).hasSize(n * k);
            assertThat(gens).extracting(Generation::getGenerationId).doesNotHaveDuplicates();
            Map<String, List<Generation>> byPrompt = gens.stream().collect(Collectors.groupingBy(Generation::getPromptId));
            assertThat(byPrompt).hasSize(n);
            byPrompt.values().forEach(group -> {
                assertThat(group).extracting(Generation::getGroupIndex).containsExactlyInAnyOrder(0, 1, 2);
                assertThat(group).allSatisfy(g -> assertThat(g.getGroupSize()).isEqualTo(k));
            });
            assertThat(gens).allSatisfy(g -> {
                assertThat(g.getPolicyVersion()).isEqualTo(0L);
                assertThat(g.getPolicyName()).isEqualTo("chat");
                assertThat(g.getBehaviourLogprobs()).hasSameSizeAs(g.getResponseTokens());
                assertThat(g.getResponseTokens()).isNotEmpty().hasSizeLessThanOrEqualTo(8);
                assertThat(g.getBehaviourLogprobs()).allSatisfy(lp -> assertThat(lp).isLessThanOrEqualTo(0f));
                assertThat(g.getPromptText()).endsWith(":").contains(g.getCategory());
                assertThat(g.getSampling().getMaxNewTokens()).isEqualTo(8);
                assertThat(g.getWorkerId()).isIn("w-0", "w-1");
                assertThat(g.getCategory()).isNotNull();
            });
            // The metrics topic saw the follower's accepted-version event inside a committed transaction.
            assertThat(cluster.readAll(cluster.topics().metrics(), "read_committed"))
                    .anySatisfy(r -> assertThat(r.value().getName()).isEqualTo(PolicyFollower.ACCEPTED_METRIC));
        }
    }

    @Test
    void aWorkerClosedMidTransactionLeavesNothingAndAnotherWorkerGeneratesThePromptsAgain() throws Exception {
        ItCluster cluster = new ItCluster("worker-abort", 2);
        cluster.publish(TestPolicies.version("chat", 4, TestPolicies.save(TestPolicies.checkpoint(2), dir, "v4")));
        int n = 6;
        int k = 2;
        try (PromptSender sender = new PromptSender(cluster.topics(), cluster.settings())) {
            sender.sendAll(new SyntheticPromptFeed(9, k).next(n));
        }
        Map<String, Object> settings = workerSettings(cluster, "chat", "doomed");
        settings.put(WorkerConfig.BATCH_MAX_SIZE, 64);
        settings.put(WorkerConfig.BATCH_MAX_WAIT_MS, 500L);
        CountDownLatch inTransaction = new CountDownLatch(1);
        WorkerHooks stall = new WorkerHooks() {
            @Override
            public void beforeCommit(PolicyWorker worker, int generations) {
                inTransaction.countDown();
                // Hold the transaction open, generations sent and flushed, until someone closes the worker.
                await().atMost(Duration.ofSeconds(60)).until(worker::stopRequested);
            }
        };
        try (PolicyFollower follower = PolicyFollower.create(cluster.topics(), settings, "chat",
                new SimpleMeterRegistry())) {
            follower.start();
            PolicyWorker doomed = new PolicyWorker(new WorkerConfig(settings), cluster.topics(), settings, follower,
                    new SimpleMeterRegistry(), stall);
            doomed.start();
            assertThat(inTransaction.await(3, TimeUnit.MINUTES)).isTrue();
            doomed.close(Duration.ZERO);  // no grace: the open transaction must be aborted
            assertThat(doomed.awaitTermination(Duration.ofSeconds(30))).isTrue();
            assertThat(doomed.transactionsAborted()).isEqualTo(1);
            assertThat(doomed.transactionsCommitted()).isZero();

            assertThat(cluster.readAll(cluster.topics().generations(), "read_uncommitted"))
                    .as("the aborted generations did reach the log").isNotEmpty();
            assertThat(cluster.readAll(cluster.topics().generations(), "read_committed"))
                    .as("but read_committed readers see none of them").isEmpty();

            Map<String, Object> again = workerSettings(cluster, "chat", "heir");
            PolicyWorker heir = new PolicyWorker(new WorkerConfig(again), cluster.topics(), again, follower,
                    new SimpleMeterRegistry());
            heir.start();
            try {
                await().atMost(Duration.ofMinutes(3)).until(() -> heir.generationsCommitted() >= (long) n * k);
                Thread.sleep(1000);
                List<Generation> gens = cluster.readAll(cluster.topics().generations(), "read_committed").stream()
                        .map(ConsumerRecord::value).toList();
                assertThat(gens).hasSize(n * k);
                assertThat(gens).extracting(Generation::getWorkerId).containsOnly("heir");
                assertThat(gens).extracting(Generation::getPolicyVersion).containsOnly(4L);
                assertThat(gens.stream().map(Generation::getPromptId).collect(Collectors.toSet())).hasSize(n);
                Set<String> ids = gens.stream().map(Generation::getGenerationId).collect(Collectors.toSet());
                assertThat(ids).hasSize(n * k);
            } finally {
                heir.close();
            }
        }
    }

    /**
     * The pipeline's new failure path: a batch already sampled but not committed when its partitions are revoked.
     * The first worker holds its first sampled batch until a second worker's arrival has started a rebalance, so
     * the poll before that batch's commit revokes its partitions; the batch must then be left to the new owner (no
     * generations, no offsets), and every prompt must still come out exactly once.
     */
    @Test
    void aBatchSampledWhenItsPartitionsAreRevokedIsLeftToTheNewOwnerWithNoDuplicatesOrLoss() throws Exception {
        ItCluster cluster = new ItCluster("worker-revoke", 2);
        cluster.publish(TestPolicies.version("chat", 0, TestPolicies.save(TestPolicies.checkpoint(3), dir, "v0")));
        int n = 24;
        int k = 2;
        try (PromptSender sender = new PromptSender(cluster.topics(), cluster.settings())) {
            assertThat(sender.sendAll(new SyntheticPromptFeed(17, k).next(n))).isEqualTo(n);
        }
        Map<String, Object> first = workerSettings(cluster, "chat", "first");
        // Heartbeats often, so the first worker learns of the rebalance soon after the second one asks to join.
        first.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 100);
        Map<String, Object> second = workerSettings(cluster, "chat", "second");
        second.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 100);
        String group = new WorkerConfig(first).groupId();
        CountDownLatch sampled = new CountDownLatch(1);
        AtomicBoolean held = new AtomicBoolean();
        WorkerHooks holdFirstBatch = new WorkerHooks() {
            @Override
            public void afterSampling(PolicyWorker worker, int prompts) {
                if (held.getAndSet(true)) {
                    return;
                }
                sampled.countDown();
                try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                        cluster.bootstrap()))) {
                    await().atMost(Duration.ofSeconds(60)).until(() -> admin.describeConsumerGroups(List.of(group))
                            .describedGroups().get(group).get().groupState() != GroupState.STABLE);
                }
                try {
                    Thread.sleep(1000);  // several heartbeats: the rebalance is known before the next poll
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        SimpleMeterRegistry firstMeters = new SimpleMeterRegistry();
        try (PolicyFollower follower = PolicyFollower.create(cluster.topics(), first, "chat",
                new SimpleMeterRegistry())) {
            follower.start();
            PolicyWorker a = new PolicyWorker(new WorkerConfig(first), cluster.topics(), first, follower, firstMeters,
                    holdFirstBatch);
            PolicyWorker b = new PolicyWorker(new WorkerConfig(second), cluster.topics(), second, follower,
                    new SimpleMeterRegistry());
            try {
                a.start();
                assertThat(sampled.await(3, TimeUnit.MINUTES)).isTrue();
                b.start();
                await().atMost(Duration.ofMinutes(3)).until(() ->
                        a.generationsCommitted() + b.generationsCommitted() >= (long) n * k);
                Thread.sleep(1000);  // anything extra would show up now

                double revoked = firstMeters.get("rlhf.worker.revoked").counter().count();
                assertThat(revoked).as("the held batch's prompts were revoked before its commit").isPositive();
                List<Generation> gens = cluster.readAll(cluster.topics().generations(), "read_committed").stream()
                        .map(ConsumerRecord::value).toList();
                assertThat(gens).hasSize(n * k);
                assertThat(gens).extracting(Generation::getGenerationId).doesNotHaveDuplicates();
                Map<String, List<Generation>> byPrompt = gens.stream()
                        .collect(Collectors.groupingBy(Generation::getPromptId));
                assertThat(byPrompt).hasSize(n);
                byPrompt.values().forEach(group2 ->
                        assertThat(group2).extracting(Generation::getGroupIndex).containsExactlyInAnyOrder(0, 1));
                assertThat(b.generationsCommitted()).as("the new owner generated prompts").isPositive();
                assertThat(a.transactionsAborted() + b.transactionsAborted()).isZero();
            } finally {
                b.close();
                a.close();
            }
        }
    }

    /**
     * The other new failure path: a transaction that fails while the next batch is being sampled behind it. Both are
     * given up (the later batch's offsets would commit the failed one's prompts), the consumer seeks back, and every
     * prompt still comes out exactly once.
     */
    @Test
    void aFailedTransactionAlsoDropsTheBatchSampledBehindItAndEveryPromptIsGeneratedOnce() throws Exception {
        ItCluster cluster = new ItCluster("worker-fail", 1);
        cluster.publish(TestPolicies.version("chat", 0, TestPolicies.save(TestPolicies.checkpoint(4), dir, "v0")));
        int n = 16;
        int k = 2;
        try (PromptSender sender = new PromptSender(cluster.topics(), cluster.settings())) {
            assertThat(sender.sendAll(new SyntheticPromptFeed(23, k).next(n))).isEqualTo(n);
        }
        Map<String, Object> settings = workerSettings(cluster, "chat", "flaky");
        AtomicBoolean failed = new AtomicBoolean();
        WorkerHooks failFirstCommit = new WorkerHooks() {
            @Override
            public void beforeCommit(PolicyWorker worker, int generations) {
                if (!failed.getAndSet(true)) {
                    throw new org.apache.kafka.common.KafkaException("injected: the first transaction fails");
                }
            }
        };
        try (PolicyFollower follower = PolicyFollower.create(cluster.topics(), settings, "chat",
                new SimpleMeterRegistry())) {
            follower.start();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            PolicyWorker worker = new PolicyWorker(new WorkerConfig(settings), cluster.topics(), settings, follower,
                    meters, failFirstCommit);
            worker.start();
            try {
                await().atMost(Duration.ofMinutes(3)).until(() -> worker.generationsCommitted() >= (long) n * k);
                Thread.sleep(1000);  // anything extra would show up now
                assertThat(worker.transactionsAborted()).isEqualTo(1);
                assertThat(worker.failure()).isEmpty();
                List<Generation> gens = cluster.readAll(cluster.topics().generations(), "read_committed").stream()
                        .map(ConsumerRecord::value).toList();
                assertThat(gens).hasSize(n * k);
                assertThat(gens).extracting(Generation::getGenerationId).doesNotHaveDuplicates();
                assertThat(gens.stream().map(Generation::getPromptId).collect(Collectors.toSet())).hasSize(n);
                // At least the next batch (4 prompts of 2 rows: a full batch of 8) was in the sampler behind the
                // failed one and was thrown away with it; only whole batches are.
                double discarded = meters.get("rlhf.worker.discarded").counter().count();
                assertThat(discarded).isBetween(4.0, (double) n - 4);
                assertThat(discarded % 4).isZero();
                assertThat(worker.generationsCommitted()).isEqualTo((long) n * k);
            } finally {
                worker.close();
            }
        }
    }
}
