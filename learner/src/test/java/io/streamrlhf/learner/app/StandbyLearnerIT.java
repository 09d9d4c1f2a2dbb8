package io.streamrlhf.learner.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.learner.checkpoint.LearnerCheckpoint;
import io.streamrlhf.learner.checkpoint.LearnerCheckpointStore;
import io.streamrlhf.learner.checkpoint.LedgerEntry;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two learners of one policy on one checkpoint directory: only the lease holder trains; when it closes, the standby
 * takes over from the newest checkpoint and publishes the next versions; a leader paused past the session timeout (its
 * lease thread frozen and its training thread blocked, as SIGSTOP would) is fenced once resumed and publishes nothing,
 * also when its write fails on something other than its fenced producer.
 * Each case checks that no version is published twice and that the ledger holds every record once.
 */
class StandbyLearnerIT {

    private static final Logger LOG = LoggerFactory.getLogger(StandbyLearnerIT.class);
    private static final int GROUPS = 12;
    private static final int GROUP_SIZE = 4;
    private static final int RECORDS = GROUPS * GROUP_SIZE;
    private static final int BATCH = 8;
    private static final int UPDATES = RECORDS / BATCH;
    private static final int SESSION_TIMEOUT_MS = 6_000;
    private static final TransformerConfig SHAPE = new TransformerConfig(16, 32, 32, 2, 2);

    @TempDir
    Path dir;

    private final List<Thread> threads = new ArrayList<>();
    private final List<LearnerService> learners = new ArrayList<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private Topics topics;
    private Map<String, Object> settings;
    private List<String> ids;

    @AfterEach
    void close() throws InterruptedException {
        learners.forEach(LearnerService::stop);
        for (Thread t : threads) {
            t.join(30_000);
        }
        learners.forEach(LearnerService::close);
    }

    @Test
    void onlyTheLeaseHolderTrainsAndTheStandbyTakesOverWhenItCloses() throws Exception {
        setUp("sb");
        LearnerService a = learner();
        // a stops itself right after committing version 3, so that b has versions left to publish
        a.beforeCommit(() -> {
            if (a.version() == 2) {
                a.stop();
            }
        });
        Thread ta = start(a, "learner-a");
        LearnerThreads.awaitTrue(a::active, 30, "a holds the lease");
        LearnerService b = learner();
        Thread tb = start(b, "learner-b");
        LearnerThreads.awaitTrue(() -> a.version() >= 1, 60, "a published version 1");
        assertThat(b.active()).as("b stands by").isFalse();
        assertThat(b.updates()).as("the standby trains nothing").isZero();

        ta.join(60_000);
        assertThat(ta.isAlive()).isFalse();
        long closed = System.nanoTime();
        assertThat(a.version()).isEqualTo(3);
        a.close();
        LearnerThreads.awaitTrue(b::active, 30, "b takes over");
        double takeover = (System.nanoTime() - closed) / 1e9;
        LearnerThreads.awaitTrue(() -> b.version() >= 4, 60, "b publishes version 4");
        double firstVersion = (System.nanoTime() - closed) / 1e9;
        LOG.info("takeover after a graceful close: lease in {} s, version 4 published {} s after a closed", takeover,
                firstVersion);
        assertThat(takeover).isLessThan(30);
        tb.join(60_000);
        assertThat(tb.isAlive()).as("b finishes").isFalse();
        assertThat(failure.get()).isNull();
        assertThat(b.epoch()).isGreaterThan(a.epoch());
        assertThat(b.updates()).isEqualTo(UPDATES);

        checkLedgerAndVersions(b.epoch());
    }

    @Test
    void aPausedLeaderIsFencedAndPublishesNothingOnceResumed() throws Exception {
        pauseTakeOverAndResume("zb", a -> { });
    }

    /**
     * A zombie's write can fail on something other than its fenced producer (here, as when the new leader on the same
     * directory removes the temporary files of a save it takes for interrupted): with a newer takeover on the lease
     * topic, that failure fences it all the same, and its version is taken back.
     */
    @Test
    void aPausedLeaderWhoseWriteFailsOnceResumedIsFencedAllTheSame() throws Exception {
        pauseTakeOverAndResume("zf", a -> a.beforePublish(() -> {
            throw new IllegalStateException("simulated: the checkpoint's temporary directory was removed");
        }));
    }

    /**
     * Pauses the leader before its second commit, lets another learner take over, resumes it (after {@code onResume})
     * and checks that it was fenced, published nothing and left no version behind, and that the other learner trains
     * every record once.
     */
    private void pauseTakeOverAndResume(String name, Consumer<LearnerService> onResume) throws Exception {
        setUp(name);
        LearnerService a = learner();
        CountDownLatch paused = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        // before committing version 2, a "pauses": its lease thread stops polling and its training thread blocks
        a.beforeCommit(() -> {
            if (a.version() == 1 && paused.getCount() > 0) {
                a.lease().freeze(true);
                paused.countDown();
                LearnerThreads.await(resume);
            }
        });
        Thread ta = start(a, "learner-a");
        assertThat(paused.await(60, TimeUnit.SECONDS)).as("a reaches its second commit").isTrue();
        long pausedAt = System.nanoTime();

        LearnerService b = learner();
        CountDownLatch bMayCommit = new CountDownLatch(1);
        // b's first commit waits until the zombie has tried to publish, so that it is the transaction that fences it
        b.beforeCommit(() -> LearnerThreads.await(bMayCommit));
        // and b trains only once the zombie has left: a resumed a trains its next update while its commit is written,
        // and one JVM holds one gradient collector (separate processes have no such limit)
        CountDownLatch zombieGone = new CountDownLatch(1);
        b.beforeUpdate(() -> LearnerThreads.await(zombieGone));
        Thread tb = start(b, "learner-b");
        // b has fenced a once it claimed its epoch (initTransactions comes first)
        LearnerThreads.awaitTrue(() -> b.epoch() != LearnerCheckpointStore.NO_EPOCH, 30,
                "b takes over from the paused a");
        double takeover = (System.nanoTime() - pausedAt) / 1e9;
        LOG.info("takeover of a paused leader: {} s (session timeout {} ms)", takeover, SESSION_TIMEOUT_MS);
        assertThat(takeover).isLessThan(30);
        assertThat(a.active()).as("a does not know yet").isTrue();

        onResume.accept(a);
        resume.countDown();
        ta.join(60_000);
        assertThat(ta.isAlive()).as("the zombie leaves its loop").isFalse();
        assertThat(failure.get()).as("the zombie stops on fencing, not on an error").isNull();
        assertThat(a.fenced()).as("the zombie was fenced").isTrue();
        LearnerCheckpointStore store = new LearnerCheckpointStore(dir.resolve("checkpoints"));
        assertThat(store.versions()).as("the zombie's version 2 was taken back").containsExactly(1L);
        assertThat(publishedVersions()).as("nothing published by the zombie").containsExactly(1L);
        zombieGone.countDown();

        bMayCommit.countDown();
        tb.join(90_000);
        assertThat(tb.isAlive()).as("b finishes").isFalse();
        assertThat(failure.get()).isNull();
        assertThat(b.epoch()).isGreaterThan(a.epoch());
        checkLedgerAndVersions(b.epoch());
    }

    private void checkLedgerAndVersions(long lastEpoch) {
        LearnerCheckpointStore store = new LearnerCheckpointStore(dir.resolve("checkpoints"));
        LearnerCheckpoint newest = store.loadNewest().orElseThrow();
        assertThat(newest.version()).isEqualTo(UPDATES);
        assertThat(store.leaderEpoch(newest.version())).isEqualTo(lastEpoch);
        List<LedgerEntry> ledger = store.readLedger(newest);
        assertThat(ledger.stream().map(LedgerEntry::generationId).toList()).as("no gaps, no repeats")
                .doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(ids);
        assertThat(ledger.stream().map(LedgerEntry::update).toList()).isSorted();
        List<Long> versions = publishedVersions();
        LOG.info("published versions: {}", versions);
        assertThat(versions).as("each version once, in order").containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    }

    private void setUp(String name) throws Exception {
        String prefix = name + UUID.randomUUID().toString().substring(0, 8) + ".";
        CatalogTopics catalog = CatalogTopics.on(SharedCluster.get().bootstrapServers(),
                SharedCluster.get().registryUrl()).prefix(prefix).partitions(2).create();
        topics = catalog.topics();
        settings = catalog.settings();
        ids = writeScored();
        Path init = dir.resolve("sft");
        ModelRuntime.init(1);
        try (TransformerPolicy sft = TransformerPolicy.create(SHAPE, 3)) {
            CheckpointStore.save(sft.toCheckpoint(Map.of("version", "0"), null), init);
        }
        settings.put(LearnerConfig.CHECKPOINT_DIR, dir.resolve("checkpoints").toString());
        settings.put(LearnerConfig.INIT_CHECKPOINT, init.toString());
        settings.put(LearnerConfig.BATCH_SEQUENCES, Integer.toString(BATCH));
        settings.put(LearnerConfig.MAX_UPDATES, Integer.toString(UPDATES));
        settings.put(LearnerConfig.GROUP_ID, prefix + "learner");
        settings.put(LearnerConfig.THREADS, "1");
        settings.put(LearnerConfig.LEASE_SESSION_TIMEOUT_MS, Integer.toString(SESSION_TIMEOUT_MS));
        settings.put(LearnerConfig.CHECKPOINT_TOPIC, "true");
        settings.put("ppo.advantage.estimator", "rloo");
        settings.put("ppo.epochs", "1");
        settings.put("ppo.minibatch.size", "8");
    }

    private LearnerService learner() {
        LearnerService l = new LearnerService(new LearnerConfig(settings), topics, settings);
        learners.add(l);
        return l;
    }

    private Thread start(LearnerService learner, String name) {
        return LearnerThreads.start(learner, name, threads, failure);
    }

    private List<String> writeScored() {
        return LearnerTopicsSupport.writeGroups(topics, settings, GROUPS, GROUP_SIZE, SHAPE.vocabSize(), 11);
    }

    private List<Long> publishedVersions() {
        return LearnerTopicsSupport.publishedVersions(topics, settings);
    }
}
