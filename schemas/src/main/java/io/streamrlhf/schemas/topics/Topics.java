package io.streamrlhf.schemas.topics;

import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.MetricEvent;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.registry.CompatibilityLevel;
import io.streamrlhf.schemas.registry.SchemaRegistryClient;
import io.streamrlhf.schemas.serde.AvroSerdeConfig;
import io.streamrlhf.schemas.serde.SpecificAvroSerde;
import io.streamrlhf.schemas.serde.SubjectNameStrategy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The one catalog of StreamRLHF's topics (DESIGN section 3). Each base name is spelled only here; the full name
 * is the configured prefix (default {@value TopicsConfig#DEFAULT_PREFIX}) plus the base name. Keys are strings;
 * values are Avro in the Confluent wire format, through serdes that share one schema-registry client.
 *
 * <pre>{@code
 * Topics topics = Topics.builder().prefix("rlhf.").registryUrl("http://localhost:8080/apis/ccompat/v7").build();
 * TopicSpec<String, Prompt> prompts = topics.prompts();
 * producer = new KafkaProducer<>(props, prompts.keySerializer(), prompts.valueSerializer());
 * }</pre>
 */
public final class Topics {
    static final String PROMPTS = "prompts";
    static final String GENERATIONS = "generations";
    static final String SCORED = "scored";
    static final String FEEDBACK = "feedback";
    static final String PREFERENCES = "preferences";
    static final String POLICY_VERSIONS = "policy.versions";
    static final String RM_VERSIONS = "rm.versions";
    static final String CHECKPOINTS = "checkpoints";
    static final String METRICS = "metrics";
    static final String LEARNER_LEASE = "learner.lease";
    /** Suffix of a dead-letter topic's name: {@code <topic>.dlq}. */
    public static final String DLQ_SUFFIX = ".dlq";
    /** Largest record the checkpoints topic accepts; the learner's chunks must fit (producers raise max.request.size). */
    public static final int CHECKPOINT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

    private final TopicsConfig config;
    private final SchemaRegistryClient registryClient;
    private final SubjectNameStrategy subjectNames;
    private final TopicSpec<String, Prompt> prompts;
    private final TopicSpec<String, Generation> generations;
    private final TopicSpec<String, ScoredGeneration> scored;
    private final TopicSpec<String, Feedback> feedback;
    private final TopicSpec<String, PreferencePair> preferences;
    private final TopicSpec<String, PolicyVersion> policyVersions;
    private final TopicSpec<String, RewardModelVersion> rmVersions;
    private final TopicSpec<String, byte[]> checkpoints;
    private final TopicSpec<String, MetricEvent> metrics;
    private final TopicSpec<String, byte[]> learnerLease;

    private Topics(TopicsConfig config, SchemaRegistryClient client, Map<String, ?> serdeConfig) {
        this.config = config;
        this.registryClient = client;
        this.subjectNames = new AvroSerdeConfig(serdeConfig).subjectNameStrategy(false);
        String retentionForever = "-1";
        String streamRetention = Long.toString(config.streamRetentionMs());
        Map<String, String> keep = durable(Map.of(TopicConfig.RETENTION_MS_CONFIG, retentionForever));
        Map<String, String> stream = durable(Map.of(TopicConfig.RETENTION_MS_CONFIG, streamRetention));
        // Only the newest version per model name matters to a reader starting up; compaction keeps exactly that.
        Map<String, String> compacted = durable(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG,
                TopicConfig.CLEANUP_POLICY_COMPACT));
        int n = config.partitions();

        this.prompts = spec(PROMPTS, Prompt.class, n, keep, client, serdeConfig);
        this.generations = spec(GENERATIONS, Generation.class, n, stream, client, serdeConfig);
        this.scored = spec(SCORED, ScoredGeneration.class, n, stream, client, serdeConfig);
        this.feedback = spec(FEEDBACK, Feedback.class, n, keep, client, serdeConfig);
        this.preferences = spec(PREFERENCES, PreferencePair.class, n, keep, client, serdeConfig);
        // One partition: versions of all models in publication order, and a small topic.
        this.policyVersions = spec(POLICY_VERSIONS, PolicyVersion.class, 1, compacted, client, serdeConfig);
        this.rmVersions = spec(RM_VERSIONS, RewardModelVersion.class, 1, compacted, client, serdeConfig);
        // Chunk keys are unique (<name>/<version>/<chunk>), so compaction never loses a live chunk, and the
        // publishers delete an old version's chunks with tombstones (CheckpointChunkWriter).
        this.checkpoints = TopicSpec.of(CHECKPOINTS, Serdes.String(), Serdes.ByteArray(), 1, config.replicationFactor(),
                        durable(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                                TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(CHECKPOINT_MAX_MESSAGE_BYTES))))
                .withPrefix(config.prefix());
        this.metrics = spec(METRICS, MetricEvent.class, n,
                durable(Map.of(TopicConfig.RETENTION_MS_CONFIG, Long.toString(config.metricsRetentionMs()))), client,
                serdeConfig);
        // Learners of a policy elect their active member by consuming this one partition in a group: whoever is
        // assigned it leads. Its records are the takeovers (key policy name, value a small JSON); compaction keeps
        // each policy's newest, which is all a new leader reads.
        this.learnerLease = TopicSpec.of(LEARNER_LEASE, Serdes.String(), Serdes.ByteArray(), 1,
                        config.replicationFactor(),
                        durable(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)))
                .withPrefix(config.prefix());
    }

    /** {@code configs} plus the catalog's {@code min.insync.replicas}, when one is set: every topic holds data. */
    private Map<String, String> durable(Map<String, String> configs) {
        if (config.minInsyncReplicas().isEmpty()) {
            return configs;
        }
        Map<String, String> withIsr = new LinkedHashMap<>(configs);
        withIsr.put(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(config.minInsyncReplicas().get()));
        return withIsr;
    }

    private <V extends SpecificRecord> TopicSpec<String, V> spec(String baseName, Class<V> type, int partitions,
                                                                 Map<String, String> configs,
                                                                 SchemaRegistryClient client,
                                                                 Map<String, ?> serdeConfig) {
        Serde<V> valueSerde = new SpecificAvroSerde<>(type, client, serdeConfig, false);
        return TopicSpec.of(baseName, Serdes.String(), valueSerde, partitions, config.replicationFactor(), configs)
                .withPrefix(config.prefix());
    }

    /**
     * Builds the catalog from one map holding {@link TopicsConfig} keys ({@code topic.prefix}, ...) and the
     * serde keys of {@link AvroSerdeConfig} ({@code schema.registry.url}, ...), e.g. a service's properties.
     */
    public static Topics create(Map<String, ?> config) {
        return new Topics(new TopicsConfig(config), new AvroSerdeConfig(config).registryClient(), config);
    }

    /**
     * The checkpoints topic's name under the {@link TopicsConfig} keys of {@code config}, without a registry: for
     * plans that name a {@code kafka:} URI before the cluster and its registry run.
     */
    public static String checkpointsName(Map<String, ?> config) {
        return new TopicsConfig(config).prefix() + CHECKPOINTS;
    }

    /** Starts a builder; at least a registry URL or client is needed. */
    public static Builder builder() {
        return new Builder();
    }

    /** The configured prefix, e.g. {@code rlhf.}. */
    public String prefix() {
        return config.prefix();
    }

    /** The default partition count of the data topics. */
    public int partitions() {
        return config.partitions();
    }

    /** The replication factor every topic is created with; empty for the broker's default. */
    public Optional<Short> replicationFactor() {
        return config.replicationFactor();
    }

    /** The {@code min.insync.replicas} every topic is created with; empty for the broker's default. */
    public Optional<Integer> minInsyncReplicas() {
        return config.minInsyncReplicas();
    }

    /** The registry client every serde of this catalog shares. */
    public SchemaRegistryClient registryClient() {
        return registryClient;
    }

    /** {@code prompts}: key prompt_id, value {@link Prompt}. Written by feeders, read by policy workers. */
    public TopicSpec<String, Prompt> prompts() {
        return prompts;
    }

    /** {@code generations}: key prompt_id, value {@link Generation}. Written by workers, read by the reward stream. */
    public TopicSpec<String, Generation> generations() {
        return generations;
    }

    /** {@code scored}: key prompt_id, value {@link ScoredGeneration}. Written by the reward stream, read by the learner. */
    public TopicSpec<String, ScoredGeneration> scored() {
        return scored;
    }

    /** {@code feedback}: key prompt_id, value {@link Feedback}. Written by feedback ingestion, read by the reward stream. */
    public TopicSpec<String, Feedback> feedback() {
        return feedback;
    }

    /** {@code preferences}: key prompt_id, value {@link PreferencePair}. Written by the reward stream, read by the RM trainer. */
    public TopicSpec<String, PreferencePair> preferences() {
        return preferences;
    }

    /** {@code policy.versions} (compacted): key policy name, value {@link PolicyVersion}. */
    public TopicSpec<String, PolicyVersion> policyVersions() {
        return policyVersions;
    }

    /** {@code rm.versions} (compacted): key reward-model name, value {@link RewardModelVersion}. */
    public TopicSpec<String, RewardModelVersion> rmVersions() {
        return rmVersions;
    }

    /** Versions per name whose chunks the checkpoints topic keeps ({@link TopicsConfig#CHECKPOINTS_KEPT}). */
    public int checkpointsKept() {
        return config.checkpointsKept();
    }

    /** {@code checkpoints} (compacted): key {@code <name>/<version>/<chunk>}, value raw weight bytes. */
    public TopicSpec<String, byte[]> checkpoints() {
        return checkpoints;
    }

    /** {@code metrics}: key component, value {@link MetricEvent}. */
    public TopicSpec<String, MetricEvent> metrics() {
        return metrics;
    }

    /**
     * {@code learner.lease} (one partition, compacted): the learners' election. Every learner of a policy consumes it
     * in one group and the member assigned its partition is the active learner; each new leader writes a takeover
     * record (key policy name, value JSON with the version it resumed from), whose offset is its leader epoch.
     */
    public TopicSpec<String, byte[]> learnerLease() {
        return learnerLease;
    }

    /**
     * The dead-letter topic of {@code source}: {@code <source name>.dlq}, same partition count, original key and
     * value bytes, with {@link DlqHeaders}.
     */
    public TopicSpec<byte[], byte[]> dlq(TopicSpec<?, ?> source) {
        Objects.requireNonNull(source, "source");
        if (source.baseName().endsWith(DLQ_SUFFIX)) {
            throw new IllegalArgumentException(source.name() + " is itself a dead-letter topic");
        }
        return TopicSpec.of(source.baseName() + DLQ_SUFFIX, Serdes.ByteArray(), Serdes.ByteArray(), source.partitions(),
                        source.replicationFactor(),
                        durable(Map.of(TopicConfig.RETENTION_MS_CONFIG, Long.toString(config.dlqRetentionMs()))))
                .withPrefix(source.prefix());
    }

    /** The Avro topics: every topic whose value is one of the contracts. */
    public List<TopicSpec<String, ? extends SpecificRecord>> avroTopics() {
        return List.of(prompts, generations, scored, feedback, preferences, policyVersions, rmVersions, metrics);
    }

    /**
     * Registers every contract's value schema under its subject and puts each subject under the
     * {@link CompatibilityLevel#BACKWARD} rule, so the registry refuses incompatible changes from then on (a
     * registry's own default may be NONE, as Apicurio's is). Idempotent; meant for {@code rlhf topics create}
     * next to {@link TopicCreator}.
     *
     * @return subject → schema id, in catalog order
     * @throws io.streamrlhf.schemas.registry.SchemaRegistryException when the registry refuses or is unreachable
     */
    public Map<String, Integer> registerSchemas() {
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (TopicSpec<String, ? extends SpecificRecord> topic : avroTopics()) {
            Schema schema = ((SpecificAvroSerde<?>) topic.valueSerde()).schema();
            String subject = subjectNames.subjectName(topic.name(), false, schema);
            ids.put(subject, registryClient.register(subject, schema));
            if (registryClient.compatibility(subject) != CompatibilityLevel.BACKWARD) {
                registryClient.setCompatibility(subject, CompatibilityLevel.BACKWARD);
            }
        }
        return ids;
    }

    /** The topics whose consumers dead-letter records they cannot read or process, and so have a DLQ. */
    public List<TopicSpec<?, ?>> dlqSources() {
        return List.of(prompts, generations, scored, feedback, preferences, policyVersions);
    }

    /**
     * Every topic: the nine of DESIGN section 3, the learners' lease and the dead-letter topics of
     * {@link #dlqSources()}.
     */
    public List<TopicSpec<?, ?>> all() {
        List<TopicSpec<?, ?>> all = new ArrayList<>(List.of(prompts, generations, scored, feedback, preferences,
                policyVersions, rmVersions, checkpoints, metrics, learnerLease));
        for (TopicSpec<?, ?> source : dlqSources()) {
            all.add(dlq(source));
        }
        return List.copyOf(all);
    }

    /** The topic with this full name, if it is in the catalog. */
    public Optional<TopicSpec<?, ?>> byName(String name) {
        return all().stream().filter(t -> t.name().equals(name)).findFirst();
    }

    /** Builder of {@link Topics} for code (the CLI) that has its settings as values rather than a map. */
    public static final class Builder {
        private final Map<String, Object> config = new HashMap<>();
        private SchemaRegistryClient client;

        private Builder() {
        }

        /** Topic name prefix; default {@value TopicsConfig#DEFAULT_PREFIX}, empty allowed. */
        public Builder prefix(String prefix) {
            config.put(TopicsConfig.PREFIX, prefix);
            return this;
        }

        /** Partitions of the data topics; default {@value TopicsConfig#DEFAULT_PARTITIONS}. */
        public Builder partitions(int partitions) {
            config.put(TopicsConfig.PARTITIONS, partitions);
            return this;
        }

        /** Replication factor of every topic; default the broker's. */
        public Builder replicationFactor(short replicationFactor) {
            config.put(TopicsConfig.REPLICATION_FACTOR, replicationFactor);
            return this;
        }

        /** {@code min.insync.replicas} of every topic; default the broker's. */
        public Builder minInsyncReplicas(int minInsyncReplicas) {
            config.put(TopicsConfig.MIN_INSYNC_REPLICAS, minInsyncReplicas);
            return this;
        }

        /** Schema registry base URL, e.g. {@code http://localhost:8080/apis/ccompat/v7} or {@code mock://test}. */
        public Builder registryUrl(String url) {
            config.put(AvroSerdeConfig.SCHEMA_REGISTRY_URL, url);
            return this;
        }

        /** A ready registry client (e.g. an {@code InMemorySchemaRegistryClient}); overrides the URL. */
        public Builder registryClient(SchemaRegistryClient registryClient) {
            this.client = registryClient;
            return this;
        }

        /** Any other {@link TopicsConfig} or {@link AvroSerdeConfig} settings (auth, TLS, timeouts, ...). */
        public Builder config(Map<String, ?> settings) {
            config.putAll(settings);
            return this;
        }

        public Topics build() {
            Map<String, Object> all = new HashMap<>(config);
            if (client != null) {
                all.put(AvroSerdeConfig.SCHEMA_REGISTRY_CLIENT, client);
            }
            return create(all);
        }
    }
}
