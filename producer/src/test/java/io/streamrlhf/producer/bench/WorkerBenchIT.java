package io.streamrlhf.producer.bench;

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

/** A tiny worker bench on the shared embedded cluster: every generation counted, every swap seen, figures that add up. */
class WorkerBenchIT {

    @Test
    void aTinyRunCountsEveryRoundsGenerationsAndTimesEachSwap() throws Exception {
        WorkerBench.Parameters parameters = new WorkerBench.Parameters(20, 2, 0, 2, 8, 8, 2, 1);
        AtomicInteger started = new AtomicInteger();
        AtomicInteger closed = new AtomicInteger();
        List<String> progress = new ArrayList<>();

        WorkerBench.Result r = WorkerBench.run(parameters, () -> {
            started.incrementAndGet();
            CatalogTopics catalog = CatalogTopics.on(SharedCluster.get().bootstrapServers(),
                    SharedCluster.get().registryUrl()).prefix("it-wbench-" + UUID.randomUUID() + ".").partitions(1)
                    .create();
            return BenchCluster.of(catalog, closed::incrementAndGet);
        }, progress::add);

        assertThat(started).hasValue(1);
        assertThat(closed).as("the bench closes the cluster it started").hasValue(1);
        // 20 prompts x 2 samples a round, 2 rounds; the first committed chunk of each round is not timed.
        assertThat(r.kafkaGenerations()).isPositive().isLessThan(2 * 40);
        assertThat(r.aloneGenerations()).as("sampling only runs before, between and after the rounds")
                .isEqualTo(3 * 40);
        assertThat(r.roundRatios()).hasSize(2).allMatch(x -> x > 0);
        assertThat(r.swapMillis()).hasSize(2).allMatch(ms -> ms > 0 && ms < 120_000);
        JsonNode json = new ObjectMapper().readTree(r.toJson());
        assertThat(json.get("generations_per_s").asDouble()).isCloseTo(r.kafkaGenerations() / r.kafkaSeconds(),
                within(0.051));
        assertThat(json.get("swaps").asInt()).isEqualTo(2);
        assertThat(progress).anyMatch(line -> line.startsWith("round 2: through Kafka"))
                .anyMatch(line -> line.startsWith("version 2: first generation"));
    }
}
