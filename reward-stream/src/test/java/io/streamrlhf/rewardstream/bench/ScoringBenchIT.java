package io.streamrlhf.rewardstream.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.schemas.bench.BenchCluster;
import io.streamrlhf.schemas.topics.CatalogTopics;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A tiny scoring bench on the shared embedded cluster: every record scored once, figures that add up. */
class ScoringBenchIT {

    @Test
    void aTinyRunScoresEveryRecordThroughTheStreamAndInProcess() throws Exception {
        ScoringBench.Parameters parameters = new ScoringBench.Parameters(1_000, 300, 16, null, 200, 100, 1, true);
        AtomicInteger closed = new AtomicInteger();
        List<String> progress = new ArrayList<>();

        ScoringBench.Result r = ScoringBench.run(parameters, () -> {
            CatalogTopics catalog = CatalogTopics.on(SharedCluster.get().bootstrapServers(),
                    SharedCluster.get().registryUrl()).prefix("it-sbench-" + UUID.randomUUID() + ".").partitions(1)
                    .create();
            return BenchCluster.of(catalog, closed::incrementAndGet);
        }, progress::add);

        assertThat(closed).as("the bench closes the cluster it started").hasValue(1);
        assertThat(r.sources()).containsExactly("rm-bench", "rule-length");
        assertThat(r.stream().recordsPerSecond()).isPositive();
        assertThat(r.stream().meanBatch()).isBetween(1.0, 16.0);
        assertThat(r.rawBefore().recordsPerSecond()).isPositive();
        assertThat(r.rawAfter().recordsPerSecond()).isPositive();
        JsonNode json = new ObjectMapper().readTree(r.toJson());
        assertThat(json.get("ratio").asDouble()).isCloseTo(r.stream().recordsPerSecond()
                / ((r.rawBefore().recordsPerSecond() + r.rawAfter().recordsPerSecond()) / 2), within(0.0006));
        assertThat(json.get("batch").asInt()).isEqualTo(16);
        assertThat(progress).anyMatch(line -> line.startsWith("produced 1000 generations to it-sbench-"));
    }
}
