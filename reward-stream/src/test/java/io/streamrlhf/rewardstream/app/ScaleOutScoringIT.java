package io.streamrlhf.rewardstream.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.rewardstream.Fixtures;
import io.streamrlhf.rewardstream.scoring.NormalizationSettings;
import io.streamrlhf.rewardstream.scoring.NormalizationState;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.rewardstream.scoring.RunningStats;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.topics.DlqHeaders;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances of the reward stream in one group (as {@code rlhf stack up --scorers 2} runs them): the partitions
 * split between them, every generation is scored exactly once across both, and both normalise against one set of
 * statistics: each task's own, merged with the others' through the statistics topic, whichever instance runs them.
 */
class ScaleOutScoringIT {
    private static final int PARTITIONS = 4;
    private static final int RECORDS = 120;
    private static final String SOURCE = "rule-length";

    @TempDir
    Path tmp;

    @Test
    void twoInstancesScoreEveryGenerationOnceAndNormaliseAgainstTheSameStatistics() throws Exception {
        ClusterFixture cluster = new ClusterFixture("scaleout", PARTITIONS);
        String applicationId = "scaleout-" + UUID.randomUUID();
        SimpleMeterRegistry metersA = new SimpleMeterRegistry();
        SimpleMeterRegistry metersB = new SimpleMeterRegistry();
        List<Generation> inputs = new ArrayList<>();
        for (int i = 0; i < RECORDS; i++) {
            // Lengths 1 to 37: raw scores (the length rule) with a spread to normalise.
            inputs.add(Fixtures.generation("gen-" + i, "prompt-" + i, "x".repeat(1 + (i * 7) % 37)));
        }
        try (ScoringApp a = ScoringApp.create(settings(cluster, applicationId, "a"), lengthRule(), metersA);
             ScoringApp b = ScoringApp.create(settings(cluster, applicationId, "b"), lengthRule(), metersB);
             KafkaConsumer<String, ScoredGeneration> reader = cluster.committedReader(
                     cluster.topics.scored().name(), cluster.topics.scored().keyDeserializer(),
                     cluster.topics.scored().valueDeserializer())) {
            // Both join before any data, so neither holds state the other would have to catch up on, and the
            // assignor splits the tasks at once.
            a.start();
            b.start();
            awaitBothRunning(a, b, Duration.ofSeconds(60));

            cluster.produce(inputs);
            List<ConsumerRecord<String, ScoredGeneration>> scored = new ArrayList<>();
            ClusterFixture.pollUntil(reader, scored, RECORDS, Duration.ofSeconds(40));
            ClusterFixture.drain(reader, scored, Duration.ofSeconds(1));

            List<String> ids = scored.stream().map(r -> r.value().getGeneration().getGenerationId()).toList();
            assertThat(ids).as("no generation scored twice").doesNotHaveDuplicates();
            assertThat(new HashSet<>(ids)).as("none lost").isEqualTo(
                    inputs.stream().map(Generation::getGenerationId).collect(Collectors.toSet()));
            double byA = metersA.get("rlhf.scoring.records").counter().count();
            double byB = metersB.get("rlhf.scoring.records").counter().count();
            assertThat(byA).as("instance a scored some").isPositive();
            assertThat(byB).as("instance b scored some").isPositive();
            assertThat(byA + byB).as("scored once across both").isEqualTo(RECORDS);
            assertThat(scored).allSatisfy(r -> assertThat(count(r)).as("no score counted twice")
                    .isBetween(1L, (long) RECORDS));

            // Every task published its statistics; together they count each generation once.
            Map<String, RunningStats> published = awaitPublished(cluster, a.normStatsTopic(), RECORDS);
            RunningStats all = RunningStats.EMPTY;
            for (Generation g : inputs) {
                all = all.add(g.getResponseText().length());
            }
            RunningStats merged = published.values().stream().reduce(RunningStats.EMPTY, RunningStats::merge);
            assertThat(merged.count()).isEqualTo(RECORDS);
            assertThat(merged.mean()).isCloseTo(all.mean(), within(1e-9));
            assertThat(merged.variance()).isCloseTo(all.variance(), within(1e-9));
            // The global stores read the topic asynchronously.
            Thread.sleep(2000);

            // One probe per partition, so each instance's tasks score some: each is normalised against the statistics
            // of all the generations above (whichever instance scored them) plus the probes scored so far.
            int probeLength = 50;
            List<Generation> probes = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                probes.add(Fixtures.generation("probe-" + p, promptOnPartition(p, cluster), "y".repeat(probeLength)));
            }
            double scoredBeforeProbesA = metersA.get("rlhf.scoring.records").counter().count();
            cluster.produce(probes);
            List<ConsumerRecord<String, ScoredGeneration>> probed = new ArrayList<>();
            ClusterFixture.pollUntil(reader, probed, PARTITIONS, Duration.ofSeconds(30));
            assertThat(probed).hasSize(PARTITIONS);
            assertThat(metersA.get("rlhf.scoring.records").counter().count()).as("a scored probes")
                    .isGreaterThan(scoredBeforeProbesA);
            for (ConsumerRecord<String, ScoredGeneration> r : probed) {
                long probesCounted = count(r) - RECORDS;
                assertThat(probesCounted).as("%s counts all %d generations and itself", r.key(), RECORDS)
                        .isBetween(1L, (long) PARTITIONS);
                RunningStats expected = all;
                for (int k = 0; k < probesCounted; k++) {
                    expected = expected.add(probeLength);
                }
                assertThat(r.value().getScores().get(0).getNormalised()).as("normalised against the shared statistics")
                        .isCloseTo(NormalizationSettings.DEFAULT.normalise(probeLength, expected), within(1e-6));
            }
        }
    }

    /** The length rule, normalised with the defaults; an ensemble per instance, as each process builds its own. */
    private static RewardEnsemble lengthRule() {
        return RewardEnsemble.builder().add(RewardSources.create(RewardSpec.parse("rule:length")))
                .normalization(NormalizationSettings.DEFAULT).build();
    }

    private Map<String, Object> settings(ClusterFixture cluster, String applicationId, String instance) {
        Map<String, Object> settings = cluster.settings();
        settings.put(RewardStreamConfig.APPLICATION_ID, applicationId);
        settings.put(RewardStreamConfig.BATCH_SIZE, 8);
        settings.put(RewardStreamConfig.BATCH_MAX_WAIT_MS, 100L);
        settings.put(RewardStreamConfig.STATE_DIR, tmp.resolve(instance).toString());
        settings.put("commit.interval.ms", 100L);
        return settings;
    }

    private static void awaitBothRunning(ScoringApp a, ScoringApp b, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long steadySince = -1;
        while (System.nanoTime() < deadline) {
            if (a.isReady() && b.isReady()) {
                steadySince = steadySince < 0 ? System.nanoTime() : steadySince;
                if (System.nanoTime() - steadySince > Duration.ofSeconds(3).toNanos()) {
                    return;
                }
            } else {
                steadySince = -1;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the two instances did not settle in RUNNING within " + timeout + ": a "
                + a.state() + ", b " + b.state());
    }

    /** The combined observation count the record was normalised with. */
    private static long count(ConsumerRecord<String, ScoredGeneration> r) {
        return Long.parseLong(DlqHeaders.read(r.headers(), "rlhf.norm.count." + SOURCE));
    }

    /** Each task's newest statistics on the statistics topic, once together they count {@code records}. */
    private static Map<String, RunningStats> awaitPublished(ClusterFixture cluster, String topic, int records) {
        Map<String, RunningStats> latest = new HashMap<>();
        try (KafkaConsumer<String, byte[]> consumer = cluster.committedReader(topic, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < deadline && latest.values().stream().mapToLong(RunningStats::count).sum()
                    < records) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value() != null) {
                        latest.put(r.key(), NormalizationState.fromBytes(r.value()).get(SOURCE));
                    }
                }
            }
        }
        Set<String> tasks = latest.keySet();
        assertThat(tasks).as("one entry per scoring task").hasSize(PARTITIONS);
        return latest;
    }

    /** A prompt id the default partitioner puts on {@code partition} of the generations topic. */
    private static String promptOnPartition(int partition, ClusterFixture cluster) {
        for (int i = 0; ; i++) {
            String key = "probe-prompt-" + i;
            byte[] bytes = cluster.topics.generations().keySerializer().serialize(cluster.topics.generations().name(),
                    key);
            if (Utils.toPositive(Utils.murmur2(bytes)) % PARTITIONS == partition) {
                return key;
            }
        }
    }
}
