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
final class EmbeddedBenchCluster implements BenchCluster {

    static final String PREFIX = "bench.";

    private final EmbeddedKafkaBroker broker;
    private final CatalogTopics catalog;

    private EmbeddedBenchCluster(EmbeddedKafkaBroker broker, CatalogTopics catalog) {
        this.broker = broker;
        this.catalog = catalog;
    }

    /** Starts the broker and creates the topics; stops the broker again if creating them fails. */
    static EmbeddedBenchCluster start() {
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().start();
        try {
            CatalogTopics catalog = CatalogTopics.on(broker.bootstrapServers(), "mock://bench-" + UUID.randomUUID())
                    .prefix(PREFIX).partitions(1).timeout(Duration.ofSeconds(30)).create();
            return new EmbeddedBenchCluster(broker, catalog);
        } catch (RuntimeException e) {
            broker.close();
            throw e;
        }
    }

    @Override
    public CatalogTopics catalog() {
        return catalog;
    }

    @Override
    public void close() {
        broker.close();
    }
}
