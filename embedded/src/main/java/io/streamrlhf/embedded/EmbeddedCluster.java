package io.streamrlhf.embedded;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single-machine default: Kafka in this JVM (one {@link EmbeddedKafkaBroker}, or several as an
 * {@link EmbeddedKafkaCluster}) and an {@link EmbeddedRegistry} child process, started together (in
 * parallel) and stopped together. The registry keeps its schemas in its own H2 database, not in a
 * Kafka topic, so the number of brokers does not concern it.
 *
 * <p>With a data directory, Kafka keeps its logs in {@code DIR/kafka} (node i of several brokers in
 * {@code DIR/kafka/node-i}) and the registry its schemas in {@code DIR/registry}, so a restart on
 * the same directory sees the same topics, records and schema ids. Without one, both are temporary.
 *
 * <pre>{@code
 * try (EmbeddedCluster cluster = EmbeddedCluster.builder().start()) {
 *     producerProps.put("bootstrap.servers", cluster.bootstrapServers());
 *     serdeProps.put("schema.registry.url", cluster.registryUrl());
 * }
 * }</pre>
 */
public final class EmbeddedCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedCluster.class);

    private final EmbeddedKafkaCluster kafka;
    private final EmbeddedRegistry registry;
    private final Path dataDir;
    private final long startupMillis;
    private boolean closed;

    private EmbeddedCluster(EmbeddedKafkaCluster kafka, EmbeddedRegistry registry, Path dataDir, long startupMillis) {
        this.kafka = kafka;
        this.registry = registry;
        this.dataDir = dataDir;
        this.startupMillis = startupMillis;
    }

    /** A builder with the defaults: ephemeral data, free ports. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * {@code localhost:PORT} of every broker (a secure cluster made for other hosts: {@code HOST:PORT}, its advertised
     * host), comma-separated, for {@code bootstrap.servers}.
     */
    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** The registry's Confluent-compatible API, {@code http://localhost:PORT/apis/ccompat/v7}. */
    public String registryUrl() {
        return registry.url();
    }

    /** The first broker (node 1); the only one unless the cluster was built with several. */
    public EmbeddedKafkaBroker broker() {
        return kafka.broker(0);
    }

    /**
     * The broker at {@code index} (0-based, node id {@code index + 1}), e.g. to {@link EmbeddedKafkaBroker#stop()
     * stop} and {@link EmbeddedKafkaBroker#start() start} it again in a test.
     */
    public EmbeddedKafkaBroker broker(int index) {
        return kafka.broker(index);
    }

    /** The Kafka brokers together. */
    public EmbeddedKafkaCluster kafka() {
        return kafka;
    }

    /** Replication factor for the data topics on this cluster: {@code min(brokers, 3)}. */
    public short replicationFactor() {
        return kafka.replicationFactor();
    }

    /** {@code min.insync.replicas} for the data topics on this cluster: 2 with three brokers, 1 with one. */
    public int minInsyncReplicas() {
        return kafka.minInsyncReplicas();
    }

    /** The registry. */
    public EmbeddedRegistry registry() {
        return registry;
    }

    /** The persistent data directory, or null when the cluster is ephemeral. */
    public Path dataDir() {
        return dataDir;
    }

    /** Wall-clock milliseconds from {@link Builder#start()} until both were ready. */
    public long startupMillis() {
        return startupMillis;
    }

    /** Stops the registry, then the brokers. Calling it again does nothing. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        try {
            registry.close();
        } catch (RuntimeException e) {
            failure = e;
        }
        try {
            kafka.close();
        } catch (RuntimeException e) {
            if (failure == null) {
                failure = e;
            } else {
                failure.addSuppressed(e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Settings for an {@link EmbeddedCluster}. */
    public static final class Builder {
        private int brokers = 1;
        private Path dataDir;
        private int kafkaPort;
        private int kafkaControllerPort;
        private int registryPort;
        private Path registryHome;
        private Path registryCacheDir;
        private ClusterSecurity security;
        private final Map<String, String> brokerProperties = new LinkedHashMap<>();

        private Builder() {
        }

        /** Persistent data directory (broker in {@code kafka/}, registry in {@code registry/}); null for temporary. */
        public Builder dataDir(Path dataDir) {
            this.dataDir = dataDir;
            return this;
        }

        /**
         * Number of Kafka brokers (default 1), each a combined broker and controller; see {@link EmbeddedKafkaCluster}.
         *
         * @throws IllegalArgumentException outside 1..{@value EmbeddedKafkaCluster#MAX_BROKERS}
         */
        public Builder brokers(int brokers) {
            if (brokers < 1 || brokers > EmbeddedKafkaCluster.MAX_BROKERS) {
                throw new IllegalArgumentException("brokers must be 1.." + EmbeddedKafkaCluster.MAX_BROKERS + ", got "
                        + brokers);
            }
            this.brokers = brokers;
            return this;
        }

        /** Kafka client port of the first broker (broker i gets {@code port + i}); 0 (the default) picks free ones. */
        public Builder kafkaPort(int port) {
            this.kafkaPort = port;
            return this;
        }

        /** Kafka controller port of the first broker (broker i gets {@code port + i}); 0 (the default) picks free ones. */
        public Builder kafkaControllerPort(int port) {
            this.kafkaControllerPort = port;
            return this;
        }

        /** Registry HTTP port; 0 (the default) picks a free one. */
        public Builder registryPort(int port) {
            this.registryPort = port;
            return this;
        }

        /** An extra property for every broker, over the defaults for the cluster's size. */
        public Builder brokerProperty(String key, String value) {
            this.brokerProperties.put(key, value);
            return this;
        }

        /**
         * Makes the brokers secure (TLS, SCRAM users, StandardAuthorizer; see {@link ClusterSecurity}); null (the
         * default) for plaintext. The registry is not covered: it listens on loopback only.
         */
        public Builder security(ClusterSecurity security) {
            this.security = security;
            return this;
        }

        /** The registry distribution (directory or zip); null to use the one the build downloaded. */
        public Builder registryHome(Path home) {
            this.registryHome = home;
            return this;
        }

        /** Where the registry zip is unpacked; null for {@link RegistryDistribution#defaultCacheRoot()}. */
        public Builder registryCacheDir(Path cacheDir) {
            this.registryCacheDir = cacheDir;
            return this;
        }

        /**
         * Starts the broker and the registry in parallel and returns when both are ready. If either
         * fails, the other is stopped before the error is thrown.
         *
         * @throws EmbeddedStartException naming the part that failed
         */
        public EmbeddedCluster start() {
            long begin = System.nanoTime();
            // Validate the settings up front, so a wrong key fails before anything starts.
            EmbeddedKafkaCluster.Builder kafkaBuilder = EmbeddedKafkaCluster.builder()
                    .brokers(brokers)
                    .dataDir(dataDir == null ? null : dataDir.resolve("kafka"))
                    .port(kafkaPort)
                    .controllerPort(kafkaControllerPort)
                    .security(security)
                    .properties(brokerProperties);
            EmbeddedRegistry.Builder registryBuilder = EmbeddedRegistry.builder()
                    .home(registryHome)
                    .cacheDir(registryCacheDir)
                    .port(registryPort)
                    .storageDir(dataDir == null ? null : dataDir.resolve("registry"));

            // The registry is a separate JVM, so its start overlaps the broker's almost fully.
            CompletableFuture<EmbeddedRegistry> registryFuture =
                    CompletableFuture.supplyAsync(registryBuilder::start, runnable -> {
                        Thread t = new Thread(runnable, "embedded-registry-start");
                        t.setDaemon(true);
                        t.start();
                    });
            EmbeddedKafkaCluster kafka;
            try {
                kafka = kafkaBuilder.start();
            } catch (RuntimeException e) {
                closeWhenDone(registryFuture);
                throw e;
            }
            EmbeddedRegistry registry;
            try {
                registry = registryFuture.get();
            } catch (ExecutionException | CompletionException e) {
                kafka.close();
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException) {
                    throw (RuntimeException) cause;
                }
                throw new EmbeddedStartException("schema registry failed to start: " + cause, cause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                closeWhenDone(registryFuture);
                kafka.close();
                throw new EmbeddedStartException("interrupted while starting the schema registry", e);
            }
            long millis = EmbeddedKafkaBroker.millisSince(begin);
            LOG.info("Embedded cluster ready in {} ms ({} broker(s) {} ms, registry {} ms): bootstrap={} registry={}",
                    millis, brokers, kafka.startupMillis(), registry.startupMillis(), kafka.bootstrapServers(),
                    registry.url());
            return new EmbeddedCluster(kafka, registry, dataDir, millis);
        }

        /** Waits for a registry start that is still running and stops what it started. */
        private static void closeWhenDone(CompletableFuture<EmbeddedRegistry> future) {
            try {
                future.get().close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException e) {
                // It failed on its own; nothing to stop.
            }
        }
    }
}
