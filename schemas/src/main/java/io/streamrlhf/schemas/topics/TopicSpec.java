package io.streamrlhf.schemas.topics;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Everything about one topic, immutable: its name ({@code prefix + baseName}), key and value serdes, partition
 * count, replication factor and topic-level configuration. Obtained from {@link Topics}; the {@code with...}
 * methods return modified copies.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class TopicSpec<K, V> {
    private final String prefix;
    private final String baseName;
    private final Serde<K> keySerde;
    private final Serde<V> valueSerde;
    private final int partitions;
    private final Optional<Short> replicationFactor;
    private final Map<String, String> configs;

    private TopicSpec(String prefix, String baseName, Serde<K> keySerde, Serde<V> valueSerde, int partitions,
                      Optional<Short> replicationFactor, Map<String, String> configs) {
        this.prefix = Objects.requireNonNull(prefix, "prefix");
        this.baseName = Objects.requireNonNull(baseName, "baseName");
        this.keySerde = Objects.requireNonNull(keySerde, "keySerde");
        this.valueSerde = Objects.requireNonNull(valueSerde, "valueSerde");
        if (partitions < 1) {
            throw new IllegalArgumentException("topic " + prefix + baseName + ": partitions must be >= 1, got "
                    + partitions);
        }
        replicationFactor.ifPresent(r -> {
            if (r < 1) {
                throw new IllegalArgumentException("topic " + prefix + baseName
                        + ": replication factor must be >= 1, got " + r);
            }
        });
        this.partitions = partitions;
        this.replicationFactor = replicationFactor;
        this.configs = Map.copyOf(configs);
        Topic.validate(name()); // legal characters and length, as the broker checks them
    }

    /**
     * A spec with no prefix; {@link Topics} applies its prefix with {@link #withPrefix(String)}.
     *
     * @param replicationFactor empty for the broker's default
     */
    public static <K, V> TopicSpec<K, V> of(String baseName, Serde<K> keySerde, Serde<V> valueSerde, int partitions,
                                            Optional<Short> replicationFactor, Map<String, String> configs) {
        return new TopicSpec<>("", baseName, keySerde, valueSerde, partitions, replicationFactor, configs);
    }

    /** The full topic name, e.g. {@code rlhf.generations}. */
    public String name() {
        return prefix + baseName;
    }

    /** The name without prefix, e.g. {@code generations}. */
    public String baseName() {
        return baseName;
    }

    /** The prefix the name carries, e.g. {@code rlhf.}. */
    public String prefix() {
        return prefix;
    }

    public Serde<K> keySerde() {
        return keySerde;
    }

    public Serde<V> valueSerde() {
        return valueSerde;
    }

    public Serializer<K> keySerializer() {
        return keySerde.serializer();
    }

    public Serializer<V> valueSerializer() {
        return valueSerde.serializer();
    }

    public Deserializer<K> keyDeserializer() {
        return keySerde.deserializer();
    }

    public Deserializer<V> valueDeserializer() {
        return valueSerde.deserializer();
    }

    public int partitions() {
        return partitions;
    }

    /** Empty means the broker's {@code default.replication.factor}. */
    public Optional<Short> replicationFactor() {
        return replicationFactor;
    }

    /** Topic-level configuration (e.g. {@code cleanup.policy=compact}), immutable. */
    public Map<String, String> configs() {
        return configs;
    }

    /** True when {@code cleanup.policy} includes {@code compact}. */
    public boolean compacted() {
        return configs.getOrDefault("cleanup.policy", "delete").contains("compact");
    }

    /** The same topic under another prefix. */
    public TopicSpec<K, V> withPrefix(String newPrefix) {
        return new TopicSpec<>(newPrefix, baseName, keySerde, valueSerde, partitions, replicationFactor, configs);
    }

    /** The same topic with another partition count. */
    public TopicSpec<K, V> withPartitions(int newPartitions) {
        return new TopicSpec<>(prefix, baseName, keySerde, valueSerde, newPartitions, replicationFactor, configs);
    }

    /** The same topic with another replication factor (empty: the broker's default). */
    public TopicSpec<K, V> withReplicationFactor(Optional<Short> newReplicationFactor) {
        return new TopicSpec<>(prefix, baseName, keySerde, valueSerde, partitions, newReplicationFactor, configs);
    }

    /** The same topic with one topic config set or replaced. */
    public TopicSpec<K, V> withConfig(String key, String value) {
        Map<String, String> copy = new LinkedHashMap<>(configs);
        copy.put(key, value);
        return new TopicSpec<>(prefix, baseName, keySerde, valueSerde, partitions, replicationFactor, copy);
    }

    /** The same topic with other serdes (e.g. raw bytes for a replay tool). */
    public <K2, V2> TopicSpec<K2, V2> withSerdes(Serde<K2> newKeySerde, Serde<V2> newValueSerde) {
        return new TopicSpec<>(prefix, baseName, newKeySerde, newValueSerde, partitions, replicationFactor, configs);
    }

    /** The admin-client request that creates this topic. */
    public NewTopic toNewTopic() {
        return new NewTopic(name(), Optional.of(partitions), replicationFactor).configs(configs);
    }

    @Override
    public String toString() {
        return "TopicSpec[" + name() + ", partitions=" + partitions + ", configs=" + configs + "]";
    }
}
