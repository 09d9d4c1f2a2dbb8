package io.streamrlhf.schemas.topics;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * Settings of the topic catalog: the name prefix, the default partition count, the replication factor,
 * {@code min.insync.replicas} and the retention of the high-volume, metrics and dead-letter topics. Every key is declared once here with its
 * default, validator and doc. The serde keys ({@code schema.registry.url}, ...) live in
 * {@code AvroSerdeConfig}; one map may carry both.
 */
public final class TopicsConfig extends AbstractConfig {
    public static final String PREFIX = "topic.prefix";
    public static final String PARTITIONS = "topic.partitions";
    public static final String REPLICATION_FACTOR = "topic.replication.factor";
    /**
     * {@code min.insync.replicas} of every topic. The key is also the one Kafka Streams reads for its internal
     * topics ({@code topic.} + the topic config), which the scorer passes on.
     */
    public static final String MIN_INSYNC_REPLICAS = "topic.min.insync.replicas";
    public static final String STREAM_RETENTION_MS = "topic.stream.retention.ms";
    public static final String METRICS_RETENTION_MS = "topic.metrics.retention.ms";
    public static final String DLQ_RETENTION_MS = "topic.dlq.retention.ms";
    public static final String CHECKPOINTS_KEPT = "topic.checkpoints.kept";

    public static final String DEFAULT_PREFIX = "rlhf.";
    public static final int DEFAULT_PARTITIONS = 3;
    /** Broker default replication factor. */
    public static final short BROKER_DEFAULT_REPLICATION = -1;
    /** Broker default {@code min.insync.replicas}. */
    public static final int BROKER_DEFAULT_MIN_INSYNC = -1;

    private static final Pattern LEGAL_PREFIX = Pattern.compile("[a-zA-Z0-9._-]{0,200}");

    private static final ConfigDef.Validator PREFIX_VALIDATOR = (name, value) -> {
        if (value == null || !LEGAL_PREFIX.matcher((String) value).matches()) {
            throw new ConfigException(name, value,
                    "a topic prefix may hold only letters, digits, '.', '_' and '-' (at most 200 characters)");
        }
    };

    private static final ConfigDef.Validator REPLICATION_VALIDATOR = (name, value) -> {
        short r = ((Number) value).shortValue();
        if (r != BROKER_DEFAULT_REPLICATION && r < 1) {
            throw new ConfigException(name, value, "must be -1 (the broker's default) or at least 1");
        }
    };

    private static final ConfigDef.Validator MIN_INSYNC_VALIDATOR = (name, value) -> {
        int m = ((Number) value).intValue();
        if (m != BROKER_DEFAULT_MIN_INSYNC && m < 1) {
            throw new ConfigException(name, value, "must be -1 (the broker's default) or at least 1");
        }
    };

    private static final ConfigDef DEFINITION = new ConfigDef()
            .define(PREFIX, Type.STRING, DEFAULT_PREFIX, PREFIX_VALIDATOR, Importance.HIGH,
                    "Prefix of every topic name, e.g. 'rlhf.' gives rlhf.prompts, rlhf.generations, ... "
                            + "Several loops can share a cluster under different prefixes.")
            .define(PARTITIONS, Type.INT, DEFAULT_PARTITIONS, ConfigDef.Range.atLeast(1), Importance.HIGH,
                    "Partitions of the data topics (prompts, generations, scored, feedback, preferences, metrics) "
                            + "and their dead-letter topics; the *.versions, checkpoints and learner.lease topics have one.")
            .define(REPLICATION_FACTOR, Type.SHORT, BROKER_DEFAULT_REPLICATION, REPLICATION_VALIDATOR,
                    Importance.MEDIUM, "Replication factor of every topic; -1 takes the broker's default.")
            .define(MIN_INSYNC_REPLICAS, Type.INT, BROKER_DEFAULT_MIN_INSYNC, MIN_INSYNC_VALIDATOR, Importance.MEDIUM,
                    "min.insync.replicas of every topic: how many replicas must have an acks=all write before it "
                            + "counts (2 with replication factor 3 survives one broker down); -1 takes the broker's "
                            + "default. At most the replication factor.")
            .define(STREAM_RETENTION_MS, Type.LONG, Duration.ofDays(7).toMillis(), ConfigDef.Range.atLeast(-1),
                    Importance.MEDIUM, "retention.ms of the high-volume generations and scored topics (-1: forever).")
            .define(METRICS_RETENTION_MS, Type.LONG, Duration.ofDays(30).toMillis(), ConfigDef.Range.atLeast(-1),
                    Importance.LOW, "retention.ms of the metrics topic (-1: forever).")
            .define(DLQ_RETENTION_MS, Type.LONG, Duration.ofDays(30).toMillis(), ConfigDef.Range.atLeast(-1),
                    Importance.LOW, "retention.ms of the dead-letter topics (-1: forever).")
            // At least 2: a worker may still be fetching the version before the newest when the newest appears.
            .define(CHECKPOINTS_KEPT, Type.INT, 3, ConfigDef.Range.atLeast(2), Importance.LOW,
                    "Versions of each policy or reward model whose chunks stay on the checkpoints topic; after "
                            + "publishing a version, the publisher tombstones the chunks of older ones and compaction "
                            + "removes them.");

    public TopicsConfig(Map<String, ?> props) {
        super(DEFINITION, props, false);
        Optional<Short> replication = replicationFactor();
        Optional<Integer> minInsync = minInsyncReplicas();
        if (replication.isPresent() && minInsync.isPresent() && minInsync.get() > replication.get()) {
            // Every acks=all write would fail with NotEnoughReplicas; say so now rather than at the first send.
            throw new ConfigException(MIN_INSYNC_REPLICAS, minInsync.get(), "must not exceed " + REPLICATION_FACTOR
                    + " (" + replication.get() + "): no write could ever be acknowledged by all of them");
        }
    }

    /** Every key with default and doc. */
    public static ConfigDef definition() {
        return new ConfigDef(DEFINITION);
    }

    public String prefix() {
        return getString(PREFIX);
    }

    public int partitions() {
        return getInt(PARTITIONS);
    }

    /** Empty for the broker's default. */
    public Optional<Short> replicationFactor() {
        short r = getShort(REPLICATION_FACTOR);
        return r == BROKER_DEFAULT_REPLICATION ? Optional.empty() : Optional.of(r);
    }

    /** Empty for the broker's default. */
    public Optional<Integer> minInsyncReplicas() {
        int m = getInt(MIN_INSYNC_REPLICAS);
        return m == BROKER_DEFAULT_MIN_INSYNC ? Optional.empty() : Optional.of(m);
    }

    public long streamRetentionMs() {
        return getLong(STREAM_RETENTION_MS);
    }

    public long metricsRetentionMs() {
        return getLong(METRICS_RETENTION_MS);
    }

    public long dlqRetentionMs() {
        return getLong(DLQ_RETENTION_MS);
    }

    /** Versions per name whose chunks the checkpoints topic keeps. */
    public int checkpointsKept() {
        return getInt(CHECKPOINTS_KEPT);
    }
}
