package io.streamrlhf.evaluator.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.evaluator.metrics.Accuracy;
import io.streamrlhf.evaluator.metrics.ScoringComparison;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.ModelRef;
import io.streamrlhf.schemas.avro.ScoreSource;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.avro.SourceScore;
import io.streamrlhf.schemas.topics.TopicCreator;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * Two scorings on the embedded broker compared by {@link TopicEvaluator#compare}: the catalog's scored topic, whose
 * reward model went from v1 to v2 half-way, and a re-scoring by v3 that orders v1's prompts as v1 did and v2's the
 * other way round, with one generation dead-lettered.
 */
class ScoringComparisonIT {

    @Test
    void aRescoredTopicIsJoinedByGenerationIdAndComparedPerVersion() throws Exception {
        EmbeddedCluster cluster = SharedCluster.get();
        Topics topics = Topics.builder().prefix("it-cmp-" + UUID.randomUUID().toString().substring(0, 8) + ".")
                .partitions(2).registryUrl(cluster.registryUrl()).build();
        String rescored = topics.scored().name() + ".v3";
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
            new TopicCreator(admin).create(List.of(topics.scored()));
            admin.createTopics(List.of(new NewTopic(rescored, 2, (short) 1))).all().get();
        }
        List<ProducerRecord<String, ScoredGeneration>> first = new ArrayList<>();
        List<ProducerRecord<String, ScoredGeneration>> second = new ArrayList<>();
        ScoringComparison.Accumulator direct = new ScoringComparison.Accumulator();
        for (int p = 0; p < 4; p++) {
            long version = p < 2 ? 1 : 2;
            for (int k = 0; k < 3; k++) {
                Generation g = TopicReplayIT.generation("g-" + p + "-" + k, 0);
                g.setPromptId("q-" + p);
                first.add(record(topics.scored().name(), g, k, version));
                direct.add(0, g.getGenerationId(), g.getPromptId(), k, "rm@v" + version);
                if (p == 3 && k == 2) {
                    continue;  // dead-lettered by the re-scoring
                }
                double again = version == 1 ? 10 + k : -k;
                second.add(record(rescored, g, again, 3));
                direct.add(1, g.getGenerationId(), g.getPromptId(), again, "rm@v3");
            }
        }
        send(cluster, topics, first);
        send(cluster, topics, second);

        TopicEvaluator evaluator = new TopicEvaluator(Map.of("bootstrap.servers", cluster.bootstrapServers()), topics,
                null, null, 8);
        List<Integer> progress = new ArrayList<>();
        TopicEvaluator.Comparison result = evaluator.compare(TopicRange.all("scored"), TopicRange.all(rescored),
                progress::add);

        assertThat(result.first().topic()).isEqualTo(topics.scored().name());
        assertThat(result.first().total()).isEqualTo(12);
        assertThat(result.second().total()).isEqualTo(11);
        assertThat(progress).last().isEqualTo(23);
        ScoringComparison c = result.comparison();
        assertThat(c).isEqualTo(direct.build());
        assertThat(c.joined()).isEqualTo(11);
        assertThat(c.onlyFirst()).isEqualTo(1);
        assertThat(c.onlySecond()).isZero();
        // q-0, q-1: 3 + 3 pairs ordered alike; q-2: 3 pairs and q-3: 1 pair ordered the other way.
        assertThat(c.agreement()).isEqualTo(new Accuracy(6, 10));
        assertThat(c.tiedPairs()).isZero();
        assertThat(c.first()).containsExactly(
                new ScoringComparison.VersionRow("rm@v1", 6, 6, 1.0, new Accuracy(6, 6)),
                new ScoringComparison.VersionRow("rm@v2", 6, 5, 1.0, new Accuracy(0, 4)));
        assertThat(c.second()).singleElement().satisfies(r -> {
            assertThat(r.version()).isEqualTo("rm@v3");
            assertThat(r.n()).isEqualTo(11);
            assertThat(r.agreement()).isEqualTo(new Accuracy(6, 10));
        });
        assertThat(c.spearman()).isBetween(-1.0, 1.0);
        assertThat(c.rewardMeanFirst()).isCloseTo(10.0 / 11, within(1e-12));  // 0+1+2 on three prompts, 0+1 on q-3
    }

    private static ProducerRecord<String, ScoredGeneration> record(String topic, Generation g, double reward,
                                                                   long version) {
        SourceScore score = SourceScore.newBuilder().setScorer("rm").setSource(ScoreSource.NEURAL_RM)
                .setModel(new ModelRef("rm", version)).setRaw(reward).setNormalised(reward).build();
        return new ProducerRecord<>(topic, g.getPromptId(), ScoredGeneration.newBuilder().setGeneration(g)
                .setScores(List.of(score)).setEnsembleMean(reward).setEnsembleStd(0).setEnsembleMin(reward)
                .setAggregation("mean").setReward(reward).setScoredAt(Instant.now()).build());
    }

    private static void send(EmbeddedCluster cluster, Topics topics,
                             List<ProducerRecord<String, ScoredGeneration>> records) {
        try (KafkaProducer<String, ScoredGeneration> producer = new KafkaProducer<>(Map.of("bootstrap.servers",
                cluster.bootstrapServers()), topics.scored().keySerializer(), topics.scored().valueSerializer())) {
            records.forEach(producer::send);
            producer.flush();
        }
    }
}
