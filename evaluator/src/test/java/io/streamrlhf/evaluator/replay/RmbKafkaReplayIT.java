package io.streamrlhf.evaluator.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.evaluator.RmbFixture;
import io.streamrlhf.evaluator.metrics.EvaluationSources;
import io.streamrlhf.evaluator.metrics.RmbEvaluation;
import io.streamrlhf.evaluator.metrics.RmbScorer;
import io.streamrlhf.evaluator.report.JsonReport;
import io.streamrlhf.evaluator.rmb.RmbItem;
import io.streamrlhf.evaluator.rmb.RmbReader;
import io.streamrlhf.rewardstream.scoring.Aggregation;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** DESIGN section 7: replaying RMB data through Kafka gives exactly the metrics of evaluating the files offline. */
class RmbKafkaReplayIT {

    private static final List<String> SOURCES = List.of("rule:length", "rule:length;scale=-1;name=shorter",
            "rule:format;check=terminal-punctuation");

    private static Map<String, Object> client() {
        return Map.of("bootstrap.servers", SharedCluster.get().bootstrapServers());
    }

    @Test
    void theFixtureThroughKafkaGivesTheOfflineMetricsExactly() {
        List<RmbItem> offline = RmbReader.read(RmbFixture.originalLayout()).items();
        RmbTopic topic = new RmbTopic(client(), "it-eval-rmb-" + UUID.randomUUID());
        topic.ensureExists(3);

        List<PartitionRange> added = topic.publish(offline);
        List<RmbItem> replayed = topic.readPublished(added);

        assertThat(added).hasSize(3);
        assertThat(replayed).containsExactlyInAnyOrderElementsOf(offline);
        assertThat(json(replayed)).isEqualTo(json(offline));
        assertThat(json(replayed)).startsWith("{\"pairwise\":{\"accuracy\":0.25,\"n\":8},\"bon\":{\"accuracy\":0.2,\"n\":5}");

        // A second publication is read back alone: the range is exactly what it added.
        List<RmbItem> firstFile = offline.subList(0, 3);
        List<RmbItem> again = topic.readPublished(topic.publish(firstFile));
        assertThat(again).containsExactlyInAnyOrderElementsOf(firstFile);
        // And the whole topic, replayed by range, holds both publications.
        List<RmbItem> all = new ArrayList<>();
        ReplaySummary summary = topic.read(TopicRange.all(topic.topic()), all::addAll);
        assertThat(summary.total()).isEqualTo(offline.size() + firstFile.size());
        assertThat(all).hasSize(offline.size() + firstFile.size());
    }

    @Test
    void theSharedSampleThroughKafkaGivesTheOfflineMetricsExactly() {
        Path sample = RmbFixture.sharedSample().orElse(null);
        Assumptions.assumeTrue(sample != null, RmbFixture::sampleMissing);
        List<RmbItem> offline = RmbReader.read(sample).items();
        RmbTopic topic = new RmbTopic(client(), "it-eval-sample-" + UUID.randomUUID());
        topic.ensureExists(3);

        List<RmbItem> replayed = topic.readPublished(topic.publish(offline));

        assertThat(replayed).hasSize(923).containsExactlyInAnyOrderElementsOf(offline);
        assertThat(json(replayed)).isEqualTo(json(offline));
    }

    private static String json(List<RmbItem> items) {
        try (RewardEnsemble ensemble = EvaluationSources.ensemble(EvaluationSources.parse(SOURCES), Aggregation.MEAN)) {
            RmbEvaluation eval = new RmbScorer(ensemble, 32).evaluate(items);
            return JsonReport.line(JsonReport.of(eval));
        }
    }
}
