package io.streamrlhf.learner.lease;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.learner.KafkaClients;
import io.streamrlhf.schemas.topics.TopicSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A learner's takeover of a policy, written on the lease topic (key policy name) through the fenced transactional
 * producer right after it resumed: the record's offset is the new leader's epoch, higher than every earlier one.
 *
 * @param epoch       the record's offset on the lease topic (the leader epoch)
 * @param baseVersion the checkpoint version the leader resumed from (what it writes next is above it)
 * @param member      who took over (host and lease member), for operators
 */
public record Takeover(long epoch, long baseVersion, String member) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The record's value: {@code {"baseVersion": .., "member": .., "at": ..}}. */
    public static byte[] value(long baseVersion, String member) {
        ObjectNode n = JSON.createObjectNode();
        n.put("baseVersion", baseVersion);
        n.put("member", member);
        n.put("at", Instant.now().toString());
        return n.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Parses a record's value; the offset is its epoch. */
    static Takeover parse(long offset, byte[] value) {
        try {
            JsonNode n = JSON.readTree(value);
            if (!n.path("baseVersion").canConvertToLong()) {
                throw new IllegalArgumentException("no baseVersion");
            }
            return new Takeover(offset, n.path("baseVersion").asLong(), n.path("member").asText(""));
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("takeover record at offset " + offset + " of the lease topic is not "
                    + "{\"baseVersion\": <n>, ...}: " + e.getMessage(), e);
        }
    }

    /**
     * The newest committed takeover of {@code policy} on the lease topic ({@code read_committed}, no group), if any.
     * A new leader reads it after fencing and before loading its checkpoint.
     */
    public static Optional<Takeover> newest(TopicSpec<String, byte[]> lease, Map<String, Object> clientProperties,
                                            String policy) {
        Map<String, Object> props = new HashMap<>(KafkaClients.only(clientProperties, ConsumerConfig.configNames()));
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Takeover newest = null;
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(lease.name(), 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            while (consumer.position(tp) < end) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (policy.equals(r.key()) && r.value() != null) {
                        newest = parse(r.offset(), r.value());
                    }
                }
            }
        }
        return Optional.ofNullable(newest);
    }
}
