package io.streamrlhf.schemas.topics;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * A cluster with the catalog's topics: the settings map every component, bench and test starts from (bootstrap
 * servers, registry URL, topic prefix, partitions, replication), the {@link Topics} built from it, and every topic
 * created on the cluster, optionally with every contract registered.
 *
 * <pre>{@code
 * CatalogTopics catalog = CatalogTopics.on(bootstrap, registryUrl).partitions(1).registerSchemas(true).create();
 * Map<String, Object> workerSettings = catalog.settings();  // a fresh copy; add the component's keys
 * }</pre>
 *
 * <p>Creating topics is idempotent ({@link TopicCreator}), so a second {@code create()} with the same prefix finds
 * them in place.
 *
 * @param settings the cluster and catalog keys (read through {@link #settings()}, which copies)
 * @param topics   the catalog built from them
 * @param report   what creating the topics did
 */
public record CatalogTopics(Map<String, Object> settings, Topics topics, TopicCreationReport report) {

    public CatalogTopics {
        settings = Map.copyOf(settings);
    }

    /** A fresh mutable copy of the cluster and catalog settings, to which a component adds its own keys. */
    @Override
    public Map<String, Object> settings() {
        return new HashMap<>(settings);
    }

    /** The bootstrap servers the topics were created on. */
    public String bootstrapServers() {
        return (String) settings.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG);
    }

    /** Starts describing the catalog on the cluster at {@code bootstrapServers} with the registry at {@code registryUrl}. */
    public static Builder on(String bootstrapServers, String registryUrl) {
        return new Builder(bootstrapServers, registryUrl);
    }

    /** How the catalog is laid out on the cluster; defaults are the catalog's own. */
    public static final class Builder {
        private final Map<String, Object> settings = new HashMap<>();
        private Duration timeout = TopicCreator.DEFAULT_TIMEOUT;
        private boolean registerSchemas;

        private Builder(String bootstrapServers, String registryUrl) {
            settings.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    Objects.requireNonNull(bootstrapServers, "bootstrapServers"));
            settings.put("schema.registry.url", Objects.requireNonNull(registryUrl, "registryUrl"));
            settings.put(TopicsConfig.PREFIX, TopicsConfig.DEFAULT_PREFIX);
        }

        /** Topic name prefix (default {@code rlhf.}); tests give each case its own. */
        public Builder prefix(String prefix) {
            settings.put(TopicsConfig.PREFIX, prefix);
            return this;
        }

        /** Partitions of the data topics (default: the catalog's). */
        public Builder partitions(int partitions) {
            settings.put(TopicsConfig.PARTITIONS, partitions);
            return this;
        }

        /** Replication factor of every topic (default: the catalog's). */
        public Builder replicationFactor(short replicationFactor) {
            settings.put(TopicsConfig.REPLICATION_FACTOR, replicationFactor);
            return this;
        }

        /** {@code min.insync.replicas} of every topic (default: the broker's). */
        public Builder minInsyncReplicas(int minInsyncReplicas) {
            settings.put(TopicsConfig.MIN_INSYNC_REPLICAS, minInsyncReplicas);
            return this;
        }

        /** Any further setting the catalog or the serde reads (e.g. registry credentials). */
        public Builder setting(String key, Object value) {
            settings.put(key, value);
            return this;
        }

        /** How long topic creation may take (default {@link TopicCreator#DEFAULT_TIMEOUT}). */
        public Builder timeout(Duration timeout) {
            this.timeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /** Whether to register every contract under BACKWARD compatibility too (default no: the serde registers on first use). */
        public Builder registerSchemas(boolean registerSchemas) {
            this.registerSchemas = registerSchemas;
            return this;
        }

        /**
         * Creates the topics (and registers the schemas when asked).
         *
         * @throws org.apache.kafka.common.KafkaException naming the topic when the cluster refuses or does not answer
         */
        public CatalogTopics create() {
            Topics topics = Topics.create(settings);
            TopicCreationReport report;
            // Every Admin key of the settings, so that a secure cluster's credentials (security.protocol, sasl.*,
            // ssl.*) reach it.
            Map<String, Object> adminSettings = new java.util.HashMap<>(settings);
            adminSettings.keySet().retainAll(AdminClientConfig.configNames());
            try (Admin admin = Admin.create(adminSettings)) {
                report = new TopicCreator(admin, timeout).create(topics.all());
            }
            if (registerSchemas) {
                topics.registerSchemas();
            }
            return new CatalogTopics(settings, topics, report);
        }
    }
}
