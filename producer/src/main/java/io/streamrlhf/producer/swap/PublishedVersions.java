package io.streamrlhf.producer.swap;

import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The versions of one policy that {@code policy.versions} still holds, read once from the beginning to the end
 * ({@code read_committed}, no consumer group), for a tool that wants a given version rather than the newest
 * ({@code rlhf export}). The topic is compacted by policy name, so older versions disappear as the broker compacts it;
 * the learner's checkpoint directory keeps them longer.
 */
public final class PublishedVersions {

    private final String topic;
    private final String policyName;
    private final TreeMap<Long, PolicyVersion> byVersion;

    private PublishedVersions(String topic, String policyName, TreeMap<Long, PolicyVersion> byVersion) {
        this.topic = topic;
        this.policyName = policyName;
        this.byVersion = byVersion;
    }

    /**
     * Reads every record of {@code policyName} on {@code policy.versions} (when a version was published twice, the
     * later record counts).
     *
     * @param clientProperties Kafka client settings (bootstrap servers, security, registry); consumer keys are taken
     * @throws IllegalStateException naming the topic when it does not exist or cannot be read within {@code timeout}
     */
    public static PublishedVersions read(Topics topics, Map<String, Object> clientProperties, String policyName,
                                         Duration timeout) {
        TopicSpec<String, PolicyVersion> spec = topics.policyVersions();
        Map<String, Object> props = new HashMap<>();
        clientProperties.forEach((k, v) -> {
            if (ConsumerConfig.configNames().contains(k)) {
                props.put(k, v);
            }
        });
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        TreeMap<Long, PolicyVersion> byVersion = new TreeMap<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<String, PolicyVersion> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                spec.valueDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(spec.name(), timeout).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            if (partitions.isEmpty()) {
                throw new IllegalStateException("topic " + spec.name() + " does not exist on "
                        + clientProperties.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG)
                        + "; is this the cluster (and --topic-prefix) the learner publishes to?");
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("timed out after " + timeout + " reading " + spec.name());
                }
                for (ConsumerRecord<String, PolicyVersion> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value() != null && policyName.equals(r.key()) && policyName.equals(r.value().getName())) {
                        byVersion.put(r.value().getVersion(), r.value());
                    }
                }
            }
        } catch (TimeoutException e) {
            throw new IllegalStateException("cannot read " + spec.name() + " from "
                    + clientProperties.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG) + " within " + timeout + ": "
                    + e.getMessage(), e);
        }
        return new PublishedVersions(spec.name(), policyName, byVersion);
    }

    /** The topic read. */
    public String topic() {
        return topic;
    }

    /** The policy. */
    public String policyName() {
        return policyName;
    }

    /** The version numbers found, ascending. */
    public List<Long> versions() {
        return List.copyOf(byVersion.keySet());
    }

    /** The record of {@code version}, if the topic still holds it. */
    public Optional<PolicyVersion> get(long version) {
        return Optional.ofNullable(byVersion.get(version));
    }

    /** The newest version's record, if any. */
    public Optional<PolicyVersion> newest() {
        return byVersion.isEmpty() ? Optional.empty() : Optional.of(byVersion.lastEntry().getValue());
    }
}
