package io.streamrlhf.cli.bench;

import io.streamrlhf.embedded.EmbeddedKafkaBroker;
import io.streamrlhf.schemas.bench.BenchCluster;
import io.streamrlhf.schemas.topics.CatalogTopics;
import java.time.Duration;
import java.util.UUID;

/**
 * The cluster {@code rlhf bench} runs its Kafka benchmarks on: an embedded broker with its data in a temporary
 * directory, an in-process registry (a benchmark measures its component, not registry round trips, which are cached
 * anyway), and every catalog topic under {@code bench.} with one partition.
 */
final class EmbeddedBenchCluster {

    static final String PREFIX = "bench.";

    private EmbeddedBenchCluster() {
    }

    /** Starts the broker and creates the topics; closing the result stops the broker. */
    static BenchCluster start() {
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().start();
        try {
            CatalogTopics catalog = CatalogTopics.on(broker.bootstrapServers(), "mock://bench-" + UUID.randomUUID())
                    .prefix(PREFIX).partitions(1).timeout(Duration.ofSeconds(30)).create();
            return BenchCluster.of(catalog, broker::close);
        } catch (RuntimeException e) {
            broker.close();
            throw e;
        }
    }
}
