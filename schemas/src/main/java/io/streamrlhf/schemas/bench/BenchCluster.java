package io.streamrlhf.schemas.bench;

import io.streamrlhf.schemas.topics.CatalogTopics;

/**
 * A cluster with the catalog's topics that a benchmark starts when its Kafka part begins and closes when that part
 * ends, so that the broker's threads do not share the cores with the benchmark's in-process measurements. Benchmarks
 * take a {@code Supplier<BenchCluster>}; {@code rlhf bench} supplies an embedded broker, a test the shared test
 * cluster.
 */
public interface BenchCluster extends AutoCloseable {

    /** The catalog's topics on the cluster, with the settings map that clients and components start from. */
    CatalogTopics catalog();

    /**
     * The settings the measured component ({@code worker}, {@code scorer}) runs with: on a secure cluster its own
     * principal's, while the bench's other clients (feeding input, publishing versions, reading output) use
     * {@link #catalog()}'s settings. By default the catalog's settings.
     */
    default java.util.Map<String, Object> settingsFor(String component) {
        return catalog().settings();
    }

    /** Stops the cluster (or releases it, where it is shared). */
    @Override
    void close();

    /** The catalog's topics on a cluster that someone else runs; closing runs {@code release}. */
    static BenchCluster of(CatalogTopics catalog, Runnable release) {
        return of(catalog, component -> catalog.settings(), release);
    }

    /**
     * As {@link #of(CatalogTopics, Runnable)}, the measured components running with {@code componentSettings}
     * (by component name) instead of the catalog's settings.
     */
    static BenchCluster of(CatalogTopics catalog,
                           java.util.function.Function<String, java.util.Map<String, Object>> componentSettings,
                           Runnable release) {
        return new BenchCluster() {
            @Override
            public CatalogTopics catalog() {
                return catalog;
            }

            @Override
            public java.util.Map<String, Object> settingsFor(String component) {
                return new java.util.HashMap<>(componentSettings.apply(component));
            }

            @Override
            public void close() {
                release.run();
            }
        };
    }
}
