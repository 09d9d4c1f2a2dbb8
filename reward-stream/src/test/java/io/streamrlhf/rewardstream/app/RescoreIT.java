package io.streamrlhf.rewardstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.rewardstream.Fixtures;
import io.streamrlhf.rewardstream.rescore.RescoreRange;
import io.streamrlhf.rewardstream.rescore.Rescorer;
import io.streamrlhf.rewardstream.scoring.Aggregation;
import io.streamrlhf.rewardstream.scoring.NormalizationSettings;
import io.streamrlhf.rewardstream.scoring.NormalizationState;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.rewardstream.scoring.ScoringOutcome;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/**
 * Re-scoring a range of the generations topic on the embedded broker gives exactly the scores of scoring the same
 * generations offline, and a second run into the same topic writes nothing twice.
 */
class RescoreIT {

    private static RewardEnsemble ensemble() {
        return RewardEnsemble.builder().addAll(RewardSources.createAll(RewardSpec.parseList(
                "rule:length,rule:keyword;words=sea|wave"))).aggregation(Aggregation.MEAN)
                .normalization(NormalizationSettings.DEFAULT).build();
    }

    @Test
    void aRangeRescoresExactlyAsOfflineAndOnlyOnce() {
        ClusterFixture cluster = new ClusterFixture("rescore", 1);
        List<Generation> all = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            all.add(Fixtures.generation("g" + i, "p" + i, "the sea " + "wave ".repeat(i % 4) + "x".repeat(i)));
        }
        all.add(3, Fixtures.generation("g-empty", "p-empty", ""));
        cluster.produce(all);
        String to = cluster.topics.scored().name() + ".rescored-" + System.nanoTime();

        Rescorer.Result first = Rescorer.run(cluster.settings(), cluster.topics, cluster.topics.generations().name(),
                RescoreRange.parse("2..20"), ensemble(), to, 5);
        assertThat(first.read()).isEqualTo(18);
        assertThat(first.resumed()).isFalse();

        // The same generations scored offline, in the same batches, with the same fresh ensemble.
        RewardEnsemble offline = ensemble();
        NormalizationState state = new NormalizationState();
        Map<String, Double> expected = new java.util.LinkedHashMap<>();
        List<Generation> range = all.subList(2, 20);
        for (int from = 0; from < range.size(); from += 5) {
            List<Generation> batch = range.subList(from, Math.min(range.size(), from + 5));
            List<ScoringOutcome> outcomes = offline.score(batch.stream().map(ScoringInput::of).toList(), state);
            for (int i = 0; i < batch.size(); i++) {
                if (outcomes.get(i).scored()) {
                    expected.put(batch.get(i).getGenerationId(), outcomes.get(i).score().reward());
                }
            }
        }
        List<ScoredGeneration> scored = read(cluster, to);
        Map<String, Double> got = scored.stream().collect(Collectors.toMap(s -> s.getGeneration().getGenerationId(),
                ScoredGeneration::getReward));
        assertThat(got).isEqualTo(expected);
        assertThat(scored).hasSize((int) first.scored());
        assertThat(first.scored() + first.deadLettered()).isEqualTo(18);

        Rescorer.Result again = Rescorer.run(cluster.settings(), cluster.topics, cluster.topics.generations().name(),
                RescoreRange.parse("2..20"), ensemble(), to, 5);
        assertThat(again.read()).isZero();
        assertThat(again.resumed()).isTrue();
        assertThat(read(cluster, to)).hasSize(scored.size());
    }

    @Test
    void rangesAreParsedAndCheckedNamingTheProblem() {
        assertThat(RescoreRange.parse("100..").fromOffset()).isEqualTo(100L);
        assertThat(RescoreRange.parse("..2026-12-01T00:00:00Z").toTime()).isNotNull();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RescoreRange.parse("5..5"))
                .hasMessageContaining("FROM < TO");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RescoreRange.parse("yesterday"))
                .hasMessageContaining("expected FROM..TO");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RescoreRange.parse("2026-13-01T00:00:00Z.."))
                .hasMessageContaining("ISO-8601");
    }

    private static List<ScoredGeneration> read(ClusterFixture cluster, String topic) {
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = cluster.committedReader(topic, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            ClusterFixture.drain(consumer, records, Duration.ofSeconds(5));
        }
        var deserializer = cluster.topics.scored().valueDeserializer();
        return records.stream().map(r -> deserializer.deserialize(topic, r.value())).toList();
    }
}
