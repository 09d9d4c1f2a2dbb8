package io.streamrlhf.learner.rm.online;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.learner.rm.RmProgress;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An online RM trainer that dies between rounds, after reading preferences it has not trained on yet, restarts from
 * its newest checkpoint: at that checkpoint's version and count, not from scratch and not from what the dead process
 * had read; its next round counts every pair since the checkpoint once, and publishes the next version on top of it.
 * ({@link OnlineRmTrainerIT} restarts a trainer that stopped cleanly after its round.)
 */
class OnlineRmTrainerRestartIT {

    private static final int ROUND_PAIRS = 32;
    private static final int HALF = ROUND_PAIRS / 2;

    @TempDir
    Path dir;

    @Test
    void aTrainerThatDiedMidAccumulationResumesFromItsCheckpointAndCountsNoPairTwice() throws Exception {
        ModelRuntime.init(1);
        CatalogTopics catalog = OnlineRmTrainerIT.catalog("rmrestart", 2);
        Map<String, Object> settings = OnlineRmTrainerIT.tinyTrainer(catalog, dir, 1, ROUND_PAIRS, 16);
        settings.put(OnlineRmConfig.MAX_ROUNDS, 1L);
        Topics topics = catalog.topics();
        List<PreferencePair> pairs = OnlineRmTrainerIT.pairs(2 * ROUND_PAIRS);

        // Version 1 from the first round's pairs.
        OnlineRmTrainerIT.produce(topics, settings, pairs.subList(0, ROUND_PAIRS));
        try (OnlineRmTrainer trainer = new OnlineRmTrainer(settings, topics, RmProgress.NONE)) {
            OnlineRmTrainerIT.runWithin(trainer, 60);
            assertThat(trainer.version()).isEqualTo(1);
            assertThat(trainer.pairsSeen()).isEqualTo(ROUND_PAIRS);
        }

        // A second process reads half a round of new pairs and dies before its round: nothing of it is checkpointed.
        OnlineRmTrainerIT.produce(topics, settings, pairs.subList(ROUND_PAIRS, ROUND_PAIRS + HALF));
        try (OnlineRmTrainer dying = new OnlineRmTrainer(settings, topics, RmProgress.NONE)) {
            Thread t = new Thread(dying::run, "online-rm-trainer-dying");
            t.start();
            awaitPairsSeen(dying, ROUND_PAIRS + HALF, Duration.ofSeconds(30));
            assertThat(dying.version()).as("resumed at the checkpoint's version").isEqualTo(1);
            dying.stop();
            t.join(30_000);
            assertThat(t.isAlive()).isFalse();
            assertThat(dying.rounds()).isZero();
        }
        assertThat(new RmCheckpointStore(dir.resolve("rm")).loadNewest().orElseThrow().version()).isEqualTo(1);

        // The restart resumes from version 1 and its count, then trains once the rest of the round arrives.
        OnlineRmTrainerIT.produce(topics, settings, pairs.subList(ROUND_PAIRS + HALF, 2 * ROUND_PAIRS));
        try (OnlineRmTrainer restarted = new OnlineRmTrainer(settings, topics, RmProgress.NONE)) {
            OnlineRmTrainerIT.runWithin(restarted, 60);
            assertThat(restarted.version()).isEqualTo(2);
            assertThat(restarted.rounds()).isEqualTo(1);
            assertThat(restarted.pairsSeen()).as("each pair counted once across the three processes")
                    .isEqualTo(2L * ROUND_PAIRS);
        }
        RewardModelVersion v2 = OnlineRmTrainerIT.newestVersions(topics, settings).get("rm-0");
        assertThat(v2.getVersion()).isEqualTo(2);
        assertThat(v2.getParentVersion()).as("trained on top of version 1, not from scratch").isEqualTo(1L);
        assertThat(v2.getMetrics().get("data/new_pairs")).as("the pairs since version 1's offsets, each once")
                .isEqualTo(ROUND_PAIRS);
        RmCheckpoint newest = new RmCheckpointStore(dir.resolve("rm")).loadNewest().orElseThrow();
        assertThat(newest.version()).isEqualTo(2);
        assertThat(newest.pairsSeen()).isEqualTo(2L * ROUND_PAIRS);
    }

    private static void awaitPairsSeen(OnlineRmTrainer trainer, long pairs, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (trainer.pairsSeen() < pairs && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(trainer.pairsSeen()).as("pairs read by the process before it dies").isEqualTo(pairs);
    }
}
